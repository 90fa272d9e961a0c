package io.tresor;

import io.tresor.internal.Native;
import io.tresor.internal.NativeHandle;
import java.lang.ref.Reference;
import java.util.Arrays;

/**
 * A public key prepared for verifying Canton signatures and encrypting in Canton's formats (the core's
 * {@code PreparedPublicKey}). Thread-safe. Holds native memory: {@link #close()} it, or leave it to the garbage
 * collector.
 */
public final class PublicKey implements AutoCloseable {

  private final NativeHandle handle;
  private volatile byte[] der;
  private volatile String fingerprint;
  private volatile KeyType keyType;

  PublicKey(long h) {
    this.handle = NativeHandle.of(this, h, Native::PublicKey_free, "PublicKey");
  }

  /** A DER SubjectPublicKeyInfo (EC points may be compressed; they are stored uncompressed). */
  public static PublicKey fromDer(byte[] der) throws TresorException {
    return new PublicKey(Native.PublicKey_fromDer(der));
  }

  /** A PEM {@code PUBLIC KEY} block. */
  public static PublicKey fromPem(String pem) throws TresorException {
    return new PublicKey(Native.PublicKey_fromPem(pem));
  }

  /** The contents of a public key file: PEM when it looks like PEM, DER otherwise. */
  public static PublicKey fromDerOrPem(byte[] encoded) throws TresorException {
    return new PublicKey(Native.PublicKey_fromDerOrPem(encoded));
  }

  /** A public JWK ({@code EC}, {@code OKP} Ed25519, {@code RSA}). */
  public static PublicKey fromJwk(String jwk) throws TresorException {
    return new PublicKey(Native.PublicKey_fromJwk(jwk));
  }

  /** A raw key: Ed25519 32 bytes, an EC SEC1 point (compressed or not), RSA DER PKCS#1. */
  public static PublicKey fromRaw(KeyType type, byte[] raw) throws TresorException {
    if (type == null) {
      throw new NullArgumentException("type must not be null");
    }
    return new PublicKey(Native.PublicKey_fromRaw(type.configName(), raw));
  }

  /** The canonical DER SubjectPublicKeyInfo, as Canton stores public keys. */
  public byte[] toDer() throws TresorException {
    return derBytes().clone();
  }

  private byte[] derBytes() throws TresorException {
    byte[] d = der;
    if (d == null) {
      long h = handle.acquire();
      try {
        d = Native.PublicKey_toDer(h);
      } finally {
        handle.release();
        Reference.reachabilityFence(this);
      }
      der = d;
    }
    return d;
  }

  /** PEM, as OpenSSL writes it. */
  public String toPem() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.PublicKey_toPem(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** A public JWK (compact JSON). */
  public String toJwk() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.PublicKey_toJwk(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** The raw key (see {@link #fromRaw}). */
  public byte[] toRaw() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.PublicKey_toRaw(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Canton's fingerprint: 68 lowercase hex characters starting with {@code 1220}. */
  public String fingerprint() throws TresorException {
    String f = fingerprint;
    if (f == null) {
      long h = handle.acquire();
      try {
        f = Native.PublicKey_fingerprint(h);
      } finally {
        handle.release();
        Reference.reachabilityFence(this);
      }
      fingerprint = f;
    }
    return f;
  }

  /** The key's type. */
  public KeyType keyType() throws TresorException {
    KeyType t = keyType;
    if (t == null) {
      long h = handle.acquire();
      try {
        t = Schemes.byConfigName(KeyType.class, Native.PublicKey_keyType(h));
      } finally {
        handle.release();
        Reference.reachabilityFence(this);
      }
      keyType = t;
    }
    return t;
  }

  /**
   * Verify a signature in Canton's format (DER for ECDSA, 64 bytes for Ed25519) with the key spec's default
   * algorithm.
   *
   * @throws InvalidSignatureException when it does not verify
   */
  public void verify(byte[] message, byte[] signature) throws TresorException {
    verify(null, message, signature);
  }

  /** {@link #verify(byte[], byte[])} with a named algorithm ({@code null}: the key spec's default). */
  public void verify(SigningAlgorithm algorithm, byte[] message, byte[] signature) throws TresorException {
    String algo = algorithm == null ? null : algorithm.configName();
    long h = handle.acquire();
    try {
      Native.PublicKey_verify(h, algo, message, signature);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Whether the signature verifies (any other failure, a malformed signature included, is thrown). */
  public boolean isValidSignature(byte[] message, byte[] signature) throws TresorException {
    try {
      verify(null, message, signature);
      return true;
    } catch (InvalidSignatureException e) {
      return false;
    }
  }

  /** Encrypt to this key in Canton's format, with the key spec's default algorithm. */
  public byte[] encrypt(byte[] plaintext) throws TresorException {
    return encrypt(null, plaintext);
  }

  /** {@link #encrypt(byte[])} with a named algorithm ({@code null}: the key spec's default). */
  public byte[] encrypt(EncryptionAlgorithm algorithm, byte[] plaintext) throws TresorException {
    String algo = algorithm == null ? null : algorithm.configName();
    long h = handle.acquire();
    try {
      return Native.PublicKey_encrypt(h, algo, plaintext);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Free the native key (idempotent); any later call throws {@link IllegalStateException}. */
  @Override
  public void close() {
    handle.closeNow();
  }

  /** Equal when the DER encodings are equal. */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof PublicKey other)) {
      return false;
    }
    try {
      return Arrays.equals(derBytes(), other.derBytes());
    } catch (TresorException | IllegalStateException e) {
      return false;
    }
  }

  @Override
  public int hashCode() {
    try {
      return Arrays.hashCode(derBytes());
    } catch (TresorException | IllegalStateException e) {
      return 0;
    }
  }

  /** The key type and fingerprint; never key material. */
  @Override
  public String toString() {
    try {
      if (!handle.isClosed()) {
        keyType();
        fingerprint();
      }
    } catch (TresorException | IllegalStateException e) {
      // Closed meanwhile: show what is known.
    }
    KeyType t = keyType;
    String f = fingerprint;
    return t == null || f == null ? "PublicKey[closed]" : "PublicKey[" + t + ", " + f + "]";
  }

}
