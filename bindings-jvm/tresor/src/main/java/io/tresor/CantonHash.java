package io.tresor;

import io.tresor.internal.Native;

/** Canton's purpose-prefixed hash: the multihash {@code 12 20 ‖ SHA-256(u32be(purpose) ‖ content)}. */
public final class CantonHash {

  /** Canton's {@code HashPurpose} id of public key fingerprints. */
  public static final int PUBLIC_KEY_FINGERPRINT = 12;

  private CantonHash() {}

  /** The 34-byte multihash; {@code purpose} is Canton's {@code HashPurpose} id, an unsigned 32-bit number. */
  public static byte[] of(long purpose, byte[] content) throws TresorException {
    return Native.CantonHash_hash(purpose, content);
  }
}
