package io.tresor;

/** Canton's {@code SigningAlgorithmSpec}, with its config strings. */
public enum SigningAlgorithm implements Schemes.Named {
  /** Ed25519 (RFC 8032); signatures are 64 raw bytes. */
  ED25519("ed-25519"),
  /** ECDSA with SHA-256 (P-256, secp256k1); signatures are DER. */
  EC_DSA_SHA256("ec-dsa-sha-256"),
  /** ECDSA with SHA-384 (P-384); signatures are DER. */
  EC_DSA_SHA384("ec-dsa-sha-384");

  private final String configName;

  SigningAlgorithm(String configName) {
    this.configName = configName;
  }

  @Override
  public String configName() {
    return configName;
  }

  /** The algorithm named {@code name}: a config string or Canton's display name ({@code EC-DSA-SHA256}). */
  public static SigningAlgorithm parse(String name) throws TresorException {
    return Schemes.byConfigName(SigningAlgorithm.class, Schemes.canonical("signing-algorithm", name));
  }

  @Override
  public String toString() {
    return configName;
  }
}
