package io.tresor;

import java.util.Optional;

/** The type of a key pair; each named by the config string of its key spec. */
public enum KeyType implements Schemes.Named {
  /** Ed25519 (signing). */
  ED25519("ec-curve-25519"),
  /** NIST P-256 (ECDSA signing, ECIES encryption). */
  EC_P256("ec-p-256"),
  /** NIST P-384 (ECDSA signing). */
  EC_P384("ec-p-384"),
  /** secp256k1 (ECDSA signing). */
  EC_SECP256K1("ec-secp-256k-1"),
  /** RSA-2048 (OAEP encryption). */
  RSA_2048("rsa-2048");

  private final String configName;

  KeyType(String configName) {
    this.configName = configName;
  }

  @Override
  public String configName() {
    return configName;
  }

  /** The signing spec of this type, if keys of this type sign. */
  public Optional<SigningKeySpec> signingSpec() {
    for (SigningKeySpec s : SigningKeySpec.values()) {
      if (s.keyType() == this) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** The encryption spec of this type, if keys of this type decrypt. */
  public Optional<EncryptionKeySpec> encryptionSpec() {
    for (EncryptionKeySpec s : EncryptionKeySpec.values()) {
      if (s.keyType() == this) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** The type named by a key spec's config string or Canton display name ({@code EC-P256}, {@code rsa-2048}). */
  public static KeyType parse(String name) throws TresorException {
    return Schemes.byConfigName(KeyType.class, Schemes.canonical("key-spec", name));
  }

  @Override
  public String toString() {
    return configName;
  }
}
