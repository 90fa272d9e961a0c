package io.tresor;

/** Canton's {@code EncryptionKeySpec}, with its config strings. */
public enum EncryptionKeySpec implements KeySpec, Schemes.Named {
  /** NIST P-256, for ECIES. */
  EC_P256("ec-p-256", KeyType.EC_P256),
  /** RSA with a 2048-bit modulus, for OAEP. */
  RSA_2048("rsa-2048", KeyType.RSA_2048);

  private final String configName;
  private final KeyType keyType;

  EncryptionKeySpec(String configName, KeyType keyType) {
    this.configName = configName;
    this.keyType = keyType;
  }

  @Override
  public String configName() {
    return configName;
  }

  @Override
  public Purpose purpose() {
    return Purpose.ENCRYPTION;
  }

  @Override
  public KeyType keyType() {
    return keyType;
  }

  /** The spec named {@code name}: a config string or Canton's display name ({@code RSA-2048}), any case. */
  public static EncryptionKeySpec parse(String name) throws TresorException {
    return Schemes.byConfigName(EncryptionKeySpec.class, Schemes.canonical("encryption-key-spec", name));
  }

  @Override
  public String toString() {
    return configName;
  }
}
