package io.tresor;

import io.tresor.internal.Native;

/** Scheme-name parsing shared by the enums: the core canonicalises, Java maps the config string to a constant. */
final class Schemes {

  private Schemes() {}

  static String canonical(String kind, String name) throws TresorException {
    if (name == null) {
      throw new NullArgumentException(kind + " name must not be null");
    }
    return Native.Schemes_canonical(kind, name);
  }

  static <E extends Enum<E> & Named> E byConfigName(Class<E> type, String configName) {
    for (E e : type.getEnumConstants()) {
      if (e.configName().equals(configName)) {
        return e;
      }
    }
    throw new IllegalStateException("the native library knows " + type.getSimpleName() + " '" + configName
        + "', this jar does not (a native library from another tresor version?)");
  }

  /** An enum constant with a config string. */
  interface Named {
    String configName();
  }
}
