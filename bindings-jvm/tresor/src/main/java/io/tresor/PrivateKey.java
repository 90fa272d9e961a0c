package io.tresor;

import io.tresor.internal.Native;
import io.tresor.internal.NativeHandle;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/**
 * A caller-held private key with its public key (the core's {@code KeyPair}): sign and decrypt in Canton's formats,
 * with the key spec's default algorithm or a named one. The key lives in native memory, zeroized when the key is
 * {@linkplain #close() closed} or collected; it is never shown by {@link #toString()}. Thread-safe.
 */
public final class PrivateKey implements AutoCloseable {

  private final NativeHandle handle;
  private volatile String fingerprint;
  private volatile KeyType keyType;

  PrivateKey(long h) {
    this.handle = NativeHandle.of(this, h, Native::PrivateKey_free, "PrivateKey");
  }

  /** The native handle, for {@link Vault#importPrivateKey}; pair with {@link #release()}. */
  long acquire() {
    return handle.acquire();
  }

  void release() {
    handle.release();
    Reference.reachabilityFence(this);
  }

  /** A fresh key pair from the operating system's random number generator. */
  public static PrivateKey generate(KeyType type) throws TresorException {
    if (type == null) {
      throw new NullArgumentException("type must not be null");
    }
    return new PrivateKey(Native.PrivateKey_generate(type.configName()));
  }

  /** An unencrypted PKCS#8 DER private key. */
  public static PrivateKey fromDer(byte[] der) throws TresorException {
    return new PrivateKey(Native.PrivateKey_fromDerOrPem(der));
  }

  /** A PEM {@code PRIVATE KEY} block (unencrypted PKCS#8). */
  public static PrivateKey fromPem(String pem) throws TresorException {
    if (pem == null) {
      throw new NullArgumentException("pem must not be null");
    }
    return new PrivateKey(Native.PrivateKey_fromDerOrPem(pem.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * Open a key exported with {@link Vault#exportSealed} ({@code tresor key export}): Argon2id and AES-256-GCM under
   * {@code password}.
   *
   * @throws WrongPasswordException when the password does not open it
   */
  public static SealedKey openSealedExport(String export, char[] password) throws TresorException {
    byte[] pw = utf8(password);
    Object[] f;
    try {
      f = Native.PrivateKey_openSealedExport(export, pw);
    } finally {
      Arrays.fill(pw, (byte) 0);
    }
    PrivateKey key = new PrivateKey((Long) f[0]);
    Purpose purpose = Purpose.of((String) f[2]);
    Set<KeyUsage> usage = f[3] == null ? Set.of() : KeyUsage.parseSet((String) f[3]);
    KeySpec spec =
        purpose == Purpose.SIGNING
            ? Schemes.byConfigName(SigningKeySpec.class, (String) f[4])
            : Schemes.byConfigName(EncryptionKeySpec.class, (String) f[4]);
    return new SealedKey(key, (String) f[1], spec, usage, Optional.ofNullable((String) f[5]));
  }

  /** UTF-8 bytes of a password; the caller zeroes them. */
  static byte[] utf8(char[] password) throws TresorException {
    if (password == null) {
      throw new NullArgumentException("password must not be null");
    }
    ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
    byte[] out = new byte[b.remaining()];
    b.get(out);
    if (b.hasArray()) {
      Arrays.fill(b.array(), (byte) 0);
    }
    return out;
  }

  /** The unencrypted PKCS#8 DER encoding. Secret: keep it no longer than needed. */
  public byte[] toDer() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.PrivateKey_toDer(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** The unencrypted PKCS#8 PEM encoding ({@code PRIVATE KEY}). Secret. */
  public String toPem() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.PrivateKey_toPem(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** The public key (a new object: close it when done). */
  public PublicKey publicKey() throws TresorException {
    long h = handle.acquire();
    try {
      return new PublicKey(Native.PrivateKey_publicKey(h));
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Canton's fingerprint of the public key. */
  public String fingerprint() throws TresorException {
    String f = fingerprint;
    if (f == null) {
      long h = handle.acquire();
      try {
        f = Native.PrivateKey_fingerprint(h);
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
        t = Schemes.byConfigName(KeyType.class, Native.PrivateKey_keyType(h));
      } finally {
        handle.release();
        Reference.reachabilityFence(this);
      }
      keyType = t;
    }
    return t;
  }

  /** Sign with the key spec's default algorithm, in Canton's signature format. */
  public byte[] sign(byte[] message) throws TresorException {
    return sign(null, message);
  }

  /**
   * Sign with {@code algorithm} ({@code null}: the key spec's default).
   *
   * @throws IncompatibleKeyException when the key cannot sign, or not with this algorithm
   */
  public byte[] sign(SigningAlgorithm algorithm, byte[] message) throws TresorException {
    String algo = algorithm == null ? null : algorithm.configName();
    long h = handle.acquire();
    try {
      return Native.PrivateKey_sign(h, algo, message);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Decrypt a ciphertext in Canton's format of the key spec's default algorithm. */
  public byte[] decrypt(byte[] ciphertext) throws TresorException {
    return decrypt(null, ciphertext);
  }

  /**
   * Decrypt with {@code algorithm} ({@code null}: the key spec's default).
   *
   * @throws DecryptionFailedException when the ciphertext does not open under this key
   */
  public byte[] decrypt(EncryptionAlgorithm algorithm, byte[] ciphertext) throws TresorException {
    String algo = algorithm == null ? null : algorithm.configName();
    long h = handle.acquire();
    try {
      return Native.PrivateKey_decrypt(h, algo, ciphertext);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Verify with the public key (see {@link PublicKey#verify(SigningAlgorithm, byte[], byte[])}). */
  public void verify(SigningAlgorithm algorithm, byte[] message, byte[] signature) throws TresorException {
    String algo = algorithm == null ? null : algorithm.configName();
    long h = handle.acquire();
    try {
      Native.PrivateKey_verify(h, algo, message, signature);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Verify with the default algorithm. */
  public void verify(byte[] message, byte[] signature) throws TresorException {
    verify(null, message, signature);
  }

  /** Encrypt to the public key (see {@link PublicKey#encrypt(EncryptionAlgorithm, byte[])}). */
  public byte[] encrypt(EncryptionAlgorithm algorithm, byte[] plaintext) throws TresorException {
    String algo = algorithm == null ? null : algorithm.configName();
    long h = handle.acquire();
    try {
      return Native.PrivateKey_encrypt(h, algo, plaintext);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  /** Encrypt with the default algorithm. */
  public byte[] encrypt(byte[] plaintext) throws TresorException {
    return encrypt(null, plaintext);
  }

  /** Zeroize and free the native key (idempotent); any later call throws {@link IllegalStateException}. */
  @Override
  public void close() {
    handle.closeNow();
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
    return t == null || f == null ? "PrivateKey[closed]" : "PrivateKey[" + t + ", " + f + "]";
  }

}
