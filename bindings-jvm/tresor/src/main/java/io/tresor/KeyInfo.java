package io.tresor;

import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a vault knows about one of its keys; no secret material.
 *
 * @param fingerprint Canton's fingerprint (68 lowercase hex characters)
 * @param name the key's name, if it has one
 * @param spec its key spec (a {@link SigningKeySpec} or an {@link EncryptionKeySpec})
 * @param usage the usages of a signing key (empty for an encryption key)
 * @param storage where the private key lives
 * @param kmsKeyId the KMS key id of a key held in a KMS
 * @param createdAt when the key was stored
 * @param publicKeyDer the public key, DER SubjectPublicKeyInfo (a copy is returned)
 */
public record KeyInfo(
    String fingerprint,
    Optional<String> name,
    KeySpec spec,
    Set<KeyUsage> usage,
    Storage storage,
    Optional<String> kmsKeyId,
    Instant createdAt,
    byte[] publicKeyDer) {

  public KeyInfo {
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(spec, "spec");
    usage = usage.isEmpty() ? Collections.emptySet() : Collections.unmodifiableSet(EnumSet.copyOf(usage));
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(kmsKeyId, "kmsKeyId");
    Objects.requireNonNull(createdAt, "createdAt");
    publicKeyDer = publicKeyDer.clone();
  }

  /** Signing or encryption. */
  public Purpose purpose() {
    return spec.purpose();
  }

  @Override
  public byte[] publicKeyDer() {
    return publicKeyDer.clone();
  }

  /** The public key, parsed (close it when done, or leave it to the garbage collector). */
  public PublicKey publicKey() throws TresorException {
    return PublicKey.fromDer(publicKeyDer);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyInfo k
        && fingerprint.equals(k.fingerprint)
        && name.equals(k.name)
        && spec == k.spec
        && usage.equals(k.usage)
        && storage == k.storage
        && kmsKeyId.equals(k.kmsKeyId)
        && createdAt.equals(k.createdAt)
        && Arrays.equals(publicKeyDer, k.publicKeyDer);
  }

  @Override
  public int hashCode() {
    return fingerprint.hashCode();
  }

  @Override
  public String toString() {
    return "KeyInfo[fingerprint=" + fingerprint
        + ", name=" + name.orElse("-")
        + ", spec=" + spec
        + ", purpose=" + purpose()
        + ", usage=" + usage
        + ", storage=" + storage
        + ", kmsKeyId=" + kmsKeyId.orElse("-")
        + ", createdAt=" + createdAt + "]";
  }

  /** From the native {@code Object[]} (see {@code Native.Vault_keyInfo}). */
  static KeyInfo fromNative(Object[] f) throws TresorException {
    Purpose purpose = Purpose.of((String) f[3]);
    KeySpec spec =
        purpose == Purpose.SIGNING
            ? Schemes.byConfigName(SigningKeySpec.class, (String) f[2])
            : Schemes.byConfigName(EncryptionKeySpec.class, (String) f[2]);
    Set<KeyUsage> usage = f[4] == null ? Set.of() : KeyUsage.parseSet((String) f[4]);
    return new KeyInfo(
        (String) f[0],
        Optional.ofNullable((String) f[1]),
        spec,
        usage,
        Storage.of((String) f[5]),
        Optional.ofNullable((String) f[6]),
        Instant.ofEpochMilli((Long) f[7]),
        (byte[]) f[8]);
  }
}
