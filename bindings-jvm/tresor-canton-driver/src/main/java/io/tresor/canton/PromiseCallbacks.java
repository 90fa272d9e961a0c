package io.tresor.canton;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverHealth;
import com.digitalasset.canton.crypto.kms.driver.api.v1.PublicKey;
import io.tresor.internal.NativeCallback;
import scala.concurrent.Promise;
import scala.runtime.BoxedUnit;

/**
 * The native callbacks of the driver: each completes a Scala {@link Promise} (on the calling thread when the core's
 * result is ready at once, otherwise on a {@code tresor-kms} runtime thread). Completing a promise only schedules its
 * listeners on their own execution contexts; no Canton code runs on tresor's threads here.
 */
final class PromiseCallbacks {

  private PromiseCallbacks() {}

  /** What a failure becomes (a {@code KmsDriverException}, logged at the right level). */
  interface Failures {
    Throwable failure(String operation, int code, String message);
  }

  abstract static class Base<T> extends NativeCallback {
    final Promise<T> promise = scala.concurrent.Promise$.MODULE$.apply();
    private final Failures failures;
    private final String operation;

    Base(Failures failures, String operation) {
      this.failures = failures;
      this.operation = operation;
    }

    @Override
    public final void onFailure(int code, String message) {
      promise.tryFailure(failures.failure(operation, code, message));
    }
  }

  static final class Bytes extends Base<byte[]> {
    Bytes(Failures f, String op) {
      super(f, op);
    }

    @Override
    public void onBytes(byte[] value) {
      promise.trySuccess(value);
    }
  }

  static final class Text extends Base<String> {
    Text(Failures f, String op) {
      super(f, op);
    }

    @Override
    public void onString(String value) {
      promise.trySuccess(value);
    }
  }

  static final class Unit extends Base<BoxedUnit> {
    Unit(Failures f, String op) {
      super(f, op);
    }

    @Override
    public void onUnit() {
      promise.trySuccess(BoxedUnit.UNIT);
    }
  }

  static final class Key extends Base<PublicKey> {
    Key(Failures f, String op) {
      super(f, op);
    }

    @Override
    public void onPublicKey(byte[] der, String kind, String spec) {
      KeySpec s = CantonSpecs.keySpec(kind, spec);
      if (s == null) {
        onFailure(501, "the key is a " + kind + " key (" + spec + "), which has no public key in Canton's driver API");
      } else {
        promise.trySuccess(new PublicKey(der, s));
      }
    }
  }

  /** Health never fails: a failure of the health call itself is reported as {@code Failed}. */
  static final class Health extends NativeCallback {
    final Promise<KmsDriverHealth> promise = scala.concurrent.Promise$.MODULE$.apply();

    @Override
    public void onHealth(String status, String reason) {
      KmsDriverHealth h =
          switch (status) {
            case "ok" -> KmsDriverHealth.Ok$.MODULE$;
            case "degraded" -> new KmsDriverHealth.Degraded(reason == null ? "degraded" : reason);
            case "failed" -> new KmsDriverHealth.Failed(reason == null ? "failed" : reason);
            default -> new KmsDriverHealth.Fatal(reason == null ? status : reason);
          };
      promise.trySuccess(h);
    }

    @Override
    public void onFailure(int code, String message) {
      promise.trySuccess(new KmsDriverHealth.Failed("the health check failed: " + message));
    }
  }
}
