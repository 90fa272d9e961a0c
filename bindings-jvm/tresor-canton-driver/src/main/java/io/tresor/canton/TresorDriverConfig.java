package io.tresor.canton;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.tresor.TresorException;
import io.tresor.internal.Native;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The driver's {@code config { ... }} block: Canton's {@code crypto.kms.config}, the configuration of one tresor KMS
 * backend with Canton's names ({@code type = software | pkcs11 | aws | gcp} and that backend's fields, as tresor's
 * {@code kms.registry} reads them).
 *
 * <p>Held in the core's canonical form: every path of the block ({@code custom-tags."a.b"} for nested keys) with its
 * value as text. Reading a block canonicalises it through the core, so {@code configReader.from(configWriter(false)
 * .to(c)) == c} holds for every config. {@link #toString()} names the keys only, never a value.
 *
 * @param settings path → value, in the core's canonical form
 */
public record TresorDriverConfig(SortedMap<String, String> settings) {

  public TresorDriverConfig {
    settings = Collections.unmodifiableSortedMap(new TreeMap<>(Objects.requireNonNull(settings, "settings")));
  }

  /** The backend: {@code software}, {@code pkcs11}, {@code aws} or {@code gcp}. */
  public String type() {
    return settings.getOrDefault("type", "?");
  }

  /**
   * Read a {@code config { ... }} block: every leaf becomes a {@code path = value} line, the core reads the lines
   * (unknown keys, missing keys, a masked secret, a backend not compiled in are errors), and its canonical text is
   * what is kept.
   */
  public static TresorDriverConfig read(ConfigValue block) throws TresorException {
    if (block == null || block.valueType() != ConfigValueType.OBJECT) {
      throw new io.tresor.InvalidArgumentException("the tresor driver's config must be an object: config { type = ... }");
    }
    SortedMap<String, String> flat = flatten((ConfigObject) block);
    String canonical = Native.Driver_configText(lines(flat), false);
    return new TresorDriverConfig(flatten(parse(canonical)));
  }

  /** The block as Canton writes it back; {@code confidential} leaves every secret out (the core decides which). */
  public ConfigValue write(boolean confidential) throws TresorException {
    return parse(Native.Driver_configText(lines(settings), confidential));
  }

  /** The {@code key = value} lines the core reads (values JSON-quoted). */
  String coreText() {
    return lines(settings);
  }

  private static ConfigObject parse(String text) {
    return ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)).root();
  }

  private static SortedMap<String, String> flatten(ConfigObject block) throws TresorException {
    SortedMap<String, String> out = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : block.toConfig().entrySet()) {
      ConfigValue v = e.getValue();
      switch (v.valueType()) {
        case STRING, NUMBER, BOOLEAN -> out.put(e.getKey(), String.valueOf(v.unwrapped()));
        case NULL -> {
          // An explicit null is an absent setting.
        }
        default ->
            throw new io.tresor.InvalidArgumentException(
                "the tresor driver's config holds a " + v.valueType().name().toLowerCase(java.util.Locale.ROOT)
                    + " at '" + e.getKey() + "'; only strings, numbers and booleans are read");
      }
    }
    return out;
  }

  private static String lines(Map<String, String> settings) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : settings.entrySet()) {
      sb.append(e.getKey()).append(" = ").append(quote(e.getValue())).append('\n');
    }
    return sb.toString();
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** The backend and the keys that are set; never a value (a value may be a secret). */
  @Override
  public String toString() {
    return "TresorDriverConfig[type=" + type() + ", keys=" + settings.keySet() + "]";
  }
}
