package io.tresor;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.StringJoiner;

/** Canton's signing key usages, fixed when a key is created and enforced on every signature. */
public enum KeyUsage implements Schemes.Named {
  /** The namespace (identity root) key. */
  NAMESPACE("namespace"),
  /** Authentication towards a sequencer. */
  SEQUENCER_AUTH("sequencer-auth"),
  /** Protocol signing. */
  PROTOCOL("protocol"),
  /** Proof of ownership (with another usage only). */
  PROOF_OF_OWNERSHIP("proof-of-ownership");

  private final String configName;

  KeyUsage(String configName) {
    this.configName = configName;
  }

  @Override
  public String configName() {
    return configName;
  }

  /**
   * A usage set from a comma-separated list ({@code "namespace,protocol"}; Canton's {@code signing} means protocol).
   * The set must be valid as Canton defines it (not empty, not proof-of-ownership alone).
   */
  public static Set<KeyUsage> parseSet(String list) throws TresorException {
    String canonical = Schemes.canonical("key-usage", list);
    EnumSet<KeyUsage> out = EnumSet.noneOf(KeyUsage.class);
    for (String part : canonical.split(",")) {
      out.add(Schemes.byConfigName(KeyUsage.class, part));
    }
    return Collections.unmodifiableSet(out);
  }

  /** The comma-separated form of a set, as the core prints it. */
  public static String toList(Set<KeyUsage> usages) throws TresorException {
    if (usages == null) {
      throw new NullArgumentException("usage must not be null");
    }
    StringJoiner j = new StringJoiner(",");
    for (KeyUsage u : KeyUsage.values()) {
      if (usages.contains(u)) {
        j.add(u.configName);
      }
    }
    return j.toString();
  }

  @Override
  public String toString() {
    return configName;
  }
}
