package io.tresor;

import io.tresor.internal.Native;

/** HKDF-SHA-256 (RFC 5869). */
public final class Hkdf {

  private Hkdf() {}

  /** Extract with {@code salt} (empty: zeros) and expand to {@code length} bytes (at most 8160) with {@code info}. */
  public static byte[] sha256(byte[] salt, byte[] ikm, byte[] info, int length) throws TresorException {
    return Native.Hkdf_sha256(salt, ikm, info, length);
  }
}
