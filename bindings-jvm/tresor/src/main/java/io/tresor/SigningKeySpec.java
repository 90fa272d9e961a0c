package io.tresor;

/** Canton's {@code SigningKeySpec}, with its config strings. */
public enum SigningKeySpec implements KeySpec, Schemes.Named {
  /** Ed25519 keys. */
  EC_CURVE_25519("ec-curve-25519", KeyType.ED25519),
  /** NIST P-256. */
  EC_P256("ec-p-256", KeyType.EC_P256),
  /** NIST P-384. */
  EC_P384("ec-p-384", KeyType.EC_P384),
  /** SECG secp256k1. */
  EC_SECP256K1("ec-secp-256k-1", KeyType.EC_SECP256K1);

  private final String configName;
  private final KeyType keyType;

  SigningKeySpec(String configName, KeyType keyType) {
    this.configName = configName;
    this.keyType = keyType;
  }

  @Override
  public String configName() {
    return configName;
  }

  @Override
  public Purpose purpose() {
    return Purpose.SIGNING;
  }

  @Override
  public KeyType keyType() {
    return keyType;
  }

  /** The spec named {@code name}: a config string or Canton's display name ({@code EC-P256}), any case. */
  public static SigningKeySpec parse(String name) throws TresorException {
    return Schemes.byConfigName(SigningKeySpec.class, Schemes.canonical("signing-key-spec", name));
  }

  @Override
  public String toString() {
    return configName;
  }
}
