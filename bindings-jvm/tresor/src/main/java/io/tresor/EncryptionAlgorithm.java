package io.tresor;

/** Canton's {@code EncryptionAlgorithmSpec}, with its config strings. */
public enum EncryptionAlgorithm implements Schemes.Named {
  /** Canton's ECIES on P-256 (KDF2-SHA256, AES-128-CBC, HMAC-SHA256), the current default. */
  ECIES_HKDF_HMAC_SHA256_AES128_CBC("ecies-hkdf-hmac-sha-256-aes-128-cbc"),
  /** RSA-OAEP with SHA-256 and MGF1-SHA-256. */
  RSA_OAEP_SHA256("rsa-oaep-sha-256"),
  /** The legacy ECIES with AES-128-GCM (Tink's format), for data written by older Canton versions. */
  ECIES_HKDF_HMAC_SHA256_AES128_GCM("ecies-hkdf-hmac-sha-256-aes-128-gcm");

  private final String configName;

  EncryptionAlgorithm(String configName) {
    this.configName = configName;
  }

  @Override
  public String configName() {
    return configName;
  }

  /** The algorithm named {@code name}: a config string or Canton's display name. */
  public static EncryptionAlgorithm parse(String name) throws TresorException {
    return Schemes.byConfigName(EncryptionAlgorithm.class, Schemes.canonical("encryption-algorithm", name));
  }

  @Override
  public String toString() {
    return configName;
  }
}
