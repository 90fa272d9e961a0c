package io.tresor.canton;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverHealth;
import com.digitalasset.canton.crypto.kms.driver.api.v1.PublicKey;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import io.opentelemetry.context.Context;
import io.tresor.ErrorFamily;
import io.tresor.TresorException;
import io.tresor.internal.Native;
import io.tresor.internal.NativeCallback;
import io.tresor.internal.NativeHandle;
import java.lang.ref.Reference;
import org.slf4j.Logger;
import scala.Option;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;

/**
 * Canton's KMS Driver API v1 over a tresor KMS backend ({@code software}, {@code pkcs11}, {@code aws}, {@code gcp}),
 * built by the core's registry and wrapped in the core's retry, rate-limit, audit and health layers.
 *
 * <p>Calls never wait on Canton's threads: each returns a future at once. The core's operation is polled once on the
 * calling thread; when it is ready then (a software KMS key already prepared), the future is already completed; when
 * it waits (a KMS round trip, an HSM call, a database read, a retry backoff), it continues on the core's own runtime
 * threads, which complete the future. Failures carry {@link KmsDriverException} with the core error's
 * retryability; expected failures (an unknown key, a wrong algorithm) are logged at DEBUG, transient ones at INFO,
 * tresor's own bugs at ERROR.
 */
public final class TresorKmsDriver implements KmsDriver {

  /**
   * Retries the core's retry layer makes for a transient failure before reporting it (retryable) to Canton, which
   * then retries with its own policy ({@code crypto.kms.retries}).
   */
  static final int CORE_RETRIES = 2;

  private final NativeHandle handle;
  private final Logger logger;
  private final String provider;
  private final String auditLog;
  private final scala.collection.immutable.Set<SigningKeySpec> signingKeySpecs;
  private final scala.collection.immutable.Set<SigningAlgoSpec> signingAlgoSpecs;
  private final scala.collection.immutable.Set<EncryptionKeySpec> encryptionKeySpecs;
  private final scala.collection.immutable.Set<EncryptionAlgoSpec> encryptionAlgoSpecs;
  private final PromiseCallbacks.Failures failures = this::failure;

  TresorKmsDriver(TresorDriverConfig config, Logger logger) throws TresorException {
    this.logger = logger;
    long h = Native.Driver_create(config.coreText(), CORE_RETRIES);
    this.handle = NativeHandle.of(this, h, Native::Driver_free, "tresor KMS driver");
    String[] d = Native.Driver_describe(h);
    this.provider = d[0];
    this.auditLog = d[1];
    this.signingKeySpecs = CantonSpecs.set(Native.Driver_supported(h, 0), CantonSpecs::signingKeySpec);
    this.signingAlgoSpecs = CantonSpecs.set(Native.Driver_supported(h, 1), CantonSpecs::signingAlgoSpec);
    this.encryptionKeySpecs = CantonSpecs.set(Native.Driver_supported(h, 2), CantonSpecs::encryptionKeySpec);
    this.encryptionAlgoSpecs = CantonSpecs.set(Native.Driver_supported(h, 3), CantonSpecs::encryptionAlgoSpec);
    logger.info(
        "tresor KMS driver ready: backend {}, audit log {}",
        provider,
        auditLog.isEmpty() ? "off" : auditLog);
  }

  /** The backend ({@code software}, {@code aws}, {@code gcp}, {@code pkcs11}). */
  public String provider() {
    return provider;
  }

  // --- failures ---------------------------------------------------------------------------------------------------

  private Throwable failure(String operation, int code, String message) {
    return failure(operation, TresorException.fromCode(code, message));
  }

  private Throwable failure(String operation, Throwable t) {
    boolean retryable = t instanceof TresorException e && e.isRetryable();
    if (t instanceof TresorException e && e.errorKind().family() == ErrorFamily.INTERNAL) {
      logger.error("tresor KMS driver: {} failed with an internal error: {}", operation, e.getMessage());
    } else if (retryable) {
      logger.info("tresor KMS driver: {} failed, retryable: {}", operation, t.getMessage());
    } else if (logger.isDebugEnabled()) {
      logger.debug("tresor KMS driver: {} failed: {}", operation, t.getMessage());
    }
    return new KmsDriverException(t, retryable);
  }

  private <T> Future<T> failed(PromiseCallbacks.Base<T> cb, String operation, Exception e) {
    cb.promise.tryFailure(failure(operation, e));
    return cb.promise.future();
  }

  @FunctionalInterface
  private interface Call {
    void run(long h) throws TresorException;
  }

  /** Start a native call with the handle held; a synchronous failure completes the callback's promise. */
  private void start(NativeCallback cb, String operation, Call call) throws TresorException {
    long h = handle.acquire();
    try {
      call.run(h);
    } finally {
      handle.release();
      Reference.reachabilityFence(this);
    }
  }

  private <T> Future<T> run(PromiseCallbacks.Base<T> cb, String operation, Call call) {
    try {
      start(cb, operation, call);
    } catch (TresorException | RuntimeException e) {
      return failed(cb, operation, e);
    }
    return cb.promise.future();
  }

  private static String name(Option<String> keyName) {
    return keyName == null || keyName.isEmpty() ? null : keyName.get();
  }

  // --- KmsDriver ------------------------------------------------------------------------------------------------

  @Override
  public Future<KmsDriverHealth> health() {
    PromiseCallbacks.Health cb = new PromiseCallbacks.Health();
    try {
      start(cb, "health", h -> Native.Driver_health(h, cb));
    } catch (TresorException | RuntimeException e) {
      cb.promise.trySuccess(new KmsDriverHealth.Failed("tresor KMS driver: " + e.getMessage()));
    }
    return cb.promise.future();
  }

  @Override
  public scala.collection.immutable.Set<SigningKeySpec> supportedSigningKeySpecs() {
    return signingKeySpecs;
  }

  @Override
  public scala.collection.immutable.Set<SigningAlgoSpec> supportedSigningAlgoSpecs() {
    return signingAlgoSpecs;
  }

  @Override
  public scala.collection.immutable.Set<EncryptionKeySpec> supportedEncryptionKeySpecs() {
    return encryptionKeySpecs;
  }

  @Override
  public scala.collection.immutable.Set<EncryptionAlgoSpec> supportedEncryptionAlgoSpecs() {
    return encryptionAlgoSpecs;
  }

  @Override
  public Future<String> generateSigningKeyPair(SigningKeySpec spec, Option<String> keyName, Context traceContext) {
    PromiseCallbacks.Text cb = new PromiseCallbacks.Text(failures, "generateSigningKeyPair");
    return run(cb, "generateSigningKeyPair",
        h -> Native.Driver_generateSigningKeyPair(h, CantonSpecs.name(spec), name(keyName), cb));
  }

  @Override
  public Future<String> generateEncryptionKeyPair(
      EncryptionKeySpec spec, Option<String> keyName, Context traceContext) {
    PromiseCallbacks.Text cb = new PromiseCallbacks.Text(failures, "generateEncryptionKeyPair");
    return run(cb, "generateEncryptionKeyPair",
        h -> Native.Driver_generateEncryptionKeyPair(h, CantonSpecs.name(spec), name(keyName), cb));
  }

  @Override
  public Future<String> generateSymmetricKey(Option<String> keyName, Context traceContext) {
    PromiseCallbacks.Text cb = new PromiseCallbacks.Text(failures, "generateSymmetricKey");
    return run(cb, "generateSymmetricKey", h -> Native.Driver_generateSymmetricKey(h, name(keyName), cb));
  }

  @Override
  public Future<byte[]> sign(byte[] data, String keyId, SigningAlgoSpec algoSpec, Context traceContext) {
    PromiseCallbacks.Bytes cb = new PromiseCallbacks.Bytes(failures, "sign");
    return run(cb, "sign", h -> Native.Driver_sign(h, data, keyId, CantonSpecs.name(algoSpec), cb));
  }

  @Override
  public Future<byte[]> decryptAsymmetric(
      byte[] ciphertext, String keyId, EncryptionAlgoSpec algoSpec, Context traceContext) {
    PromiseCallbacks.Bytes cb = new PromiseCallbacks.Bytes(failures, "decryptAsymmetric");
    return run(cb, "decryptAsymmetric",
        h -> Native.Driver_decryptAsymmetric(h, ciphertext, keyId, CantonSpecs.name(algoSpec), cb));
  }

  @Override
  public Future<byte[]> encryptSymmetric(byte[] data, String keyId, Context traceContext) {
    PromiseCallbacks.Bytes cb = new PromiseCallbacks.Bytes(failures, "encryptSymmetric");
    return run(cb, "encryptSymmetric", h -> Native.Driver_encryptSymmetric(h, data, keyId, cb));
  }

  @Override
  public Future<byte[]> decryptSymmetric(byte[] ciphertext, String keyId, Context traceContext) {
    PromiseCallbacks.Bytes cb = new PromiseCallbacks.Bytes(failures, "decryptSymmetric");
    return run(cb, "decryptSymmetric", h -> Native.Driver_decryptSymmetric(h, ciphertext, keyId, cb));
  }

  @Override
  public Future<PublicKey> getPublicKey(String keyId, Context traceContext) {
    PromiseCallbacks.Key cb = new PromiseCallbacks.Key(failures, "getPublicKey");
    return run(cb, "getPublicKey", h -> Native.Driver_getPublicKey(h, keyId, cb));
  }

  @Override
  public Future<BoxedUnit> keyExistsAndIsActive(String keyId, Context traceContext) {
    PromiseCallbacks.Unit cb = new PromiseCallbacks.Unit(failures, "keyExistsAndIsActive");
    return run(cb, "keyExistsAndIsActive", h -> Native.Driver_keyExistsAndIsActive(h, keyId, cb));
  }

  @Override
  public Future<BoxedUnit> deleteKey(String keyId, Context traceContext) {
    PromiseCallbacks.Unit cb = new PromiseCallbacks.Unit(failures, "deleteKey");
    return run(cb, "deleteKey", h -> Native.Driver_deleteKey(h, keyId, cb));
  }

  /**
   * Release the native side: the backend's sessions and connections are closed and its runtime stopped; calls still
   * in flight fail. Idempotent; later calls fail with a non-retryable {@link KmsDriverException}.
   */
  @Override
  public void close() {
    if (!handle.isClosed()) {
      handle.closeNow();
      logger.info("tresor KMS driver closed (backend {})", provider);
    }
  }

  @Override
  public String toString() {
    return "TresorKmsDriver[backend=" + provider + (handle.isClosed() ? ", closed" : "") + "]";
  }
}
