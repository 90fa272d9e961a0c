package io.tresor;

import io.tresor.internal.Native;

/**
 * Hazardous materials: operations that take secret key material out of tresor's protection, kept in one class so
 * that every use is visible in review (the core's {@code tresor::hazmat}). Prefer {@link Vault#exportSealed}, which
 * never shows the key.
 */
public final class Hazmat {

  private Hazmat() {}

  /**
   * A vault key in clear (clear and envelope modes; keys in a KMS never leave it: {@link WrongModeException}). When
   * the vault has an audit log, an event naming the key (never its bytes) is written first; if it cannot be written,
   * the key is not returned.
   */
  public static PrivateKey exportPrivateKey(Vault vault, String fingerprint) throws TresorException {
    if (vault == null || fingerprint == null) {
      throw new NullArgumentException("vault and fingerprint must not be null");
    }
    long h = vault.acquire();
    try {
      return new PrivateKey(Native.Hazmat_exportPrivateKey(h, fingerprint));
    } finally {
      vault.release();
    }
  }
}
