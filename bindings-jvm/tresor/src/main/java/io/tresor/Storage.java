package io.tresor;

/** Where a vault key's private part lives. */
public enum Storage implements Schemes.Named {
  /** PKCS#8 in the store (Canton's clear mode). */
  CLEAR("clear"),
  /** Sealed in the store under the data key, which the KMS wrapper key wraps (envelope mode). */
  SEALED("sealed"),
  /** In the KMS or HSM (external mode). */
  EXTERNAL("external");

  private final String configName;

  Storage(String configName) {
    this.configName = configName;
  }

  @Override
  public String configName() {
    return configName;
  }

  static Storage of(String name) {
    return Schemes.byConfigName(Storage.class, name);
  }

  @Override
  public String toString() {
    return configName;
  }
}
