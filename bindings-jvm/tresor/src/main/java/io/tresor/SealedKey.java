package io.tresor;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A key opened from a password-sealed export file ({@link PrivateKey#openSealedExport}).
 *
 * @param key the private key (close it when done)
 * @param fingerprint Canton's fingerprint of its public key
 * @param spec the key spec it was exported with
 * @param usage its usages (signing keys; empty for encryption keys)
 * @param name the name it had in the vault
 */
public record SealedKey(PrivateKey key, String fingerprint, KeySpec spec, Set<KeyUsage> usage, Optional<String> name) {

  public SealedKey {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(spec, "spec");
    usage = Set.copyOf(usage);
    Objects.requireNonNull(name, "name");
  }

  /** Signing or encryption. */
  public Purpose purpose() {
    return spec.purpose();
  }
}
