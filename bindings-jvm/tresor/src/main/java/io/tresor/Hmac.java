package io.tresor;

import io.tresor.internal.Native;

/** HMAC-SHA-256. */
public final class Hmac {

  private Hmac() {}

  /** The 32-byte tag of {@code data} under {@code key} (any key length). */
  public static byte[] sha256(byte[] key, byte[] data) throws TresorException {
    return Native.Hmac_sha256(key, data);
  }

  /** Check a tag in constant time. @throws InvalidSignatureException when it does not match */
  public static void verifySha256(byte[] key, byte[] data, byte[] tag) throws TresorException {
    Native.Hmac_verifySha256(key, data, tag);
  }
}
