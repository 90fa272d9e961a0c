package io.tresor;

import io.tresor.internal.Native;
import io.tresor.internal.NativeHandle;
import java.lang.ref.Reference;

/**
 * An AES-128-GCM key in Canton's symmetric scheme: ciphertexts are {@code IV(12) ‖ ciphertext ‖ tag(16)}, with a
 * random IV and no associated data. The key lives in native memory, zeroized on {@link #close()}. Thread-safe.
 */
public final class Aes128Gcm implements AutoCloseable {

  private final NativeHandle handle;

  private Aes128Gcm(long h) {
    this.handle = NativeHandle.of(this, h, Native::Aes128Gcm_free, "Aes128Gcm");
  }

  /** A key from 16 raw bytes. */
  public static Aes128Gcm of(byte[] key) throws TresorException {
    return new Aes128Gcm(Native.Aes128Gcm_new(key));
  }

  /** A fresh random key. */
  public static Aes128Gcm generate() throws TresorException {
    return new Aes128Gcm(Native.Aes128Gcm_generate());
  }

  /** The 16 raw key bytes (secret). */
  public byte[] toBytes() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Aes128Gcm_toBytes(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  public byte[] encrypt(byte[] plaintext) throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Aes128Gcm_encrypt(h, plaintext);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** @throws DecryptionFailedException when the ciphertext does not open under this key */
  public byte[] decrypt(byte[] ciphertext) throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Aes128Gcm_decrypt(h, ciphertext);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  @Override
  public void close() {
    handle.closeNow();
  }

  @Override
  public String toString() {
    return handle.isClosed() ? "Aes128Gcm[closed]" : "Aes128Gcm[128 bits]";
  }
}
