package io.tresor.internal;

/**
 * The completion of an asynchronous native call (the KMS driver's). The native side calls exactly one method, once:
 * on the calling thread when the result is ready at once, otherwise later from one of the core's runtime threads (a
 * daemon thread named {@code tresor-kms}). Implementations must return quickly and must not throw.
 *
 * <p>Not API.
 */
public abstract class NativeCallback {

  /** A {@code byte[]} result (a signature, a plaintext, a ciphertext). */
  public void onBytes(byte[] value) {
    onFailure(900, "unexpected byte[] result");
  }

  /** A text result (a key id). */
  public void onString(String value) {
    onFailure(900, "unexpected text result");
  }

  /** Done, with no result. */
  public void onUnit() {
    onFailure(900, "unexpected empty result");
  }

  /**
   * A public key: DER SubjectPublicKeyInfo, {@code kind} {@code signing}, {@code encryption} or {@code symmetric},
   * and the spec's config string.
   */
  public void onPublicKey(byte[] der, String kind, String spec) {
    onFailure(900, "unexpected public key result");
  }

  /** A health report: {@code ok}, {@code degraded}, {@code failed} or {@code fatal}, and the reason (or null). */
  public void onHealth(String status, String reason) {
    onFailure(900, "unexpected health result");
  }

  /** The call failed with tresor's error {@code code} (see {@code io.tresor.ErrorKind}). */
  public abstract void onFailure(int code, String message);
}
