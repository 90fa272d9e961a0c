package io.tresor.canton.conformance;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;

/** Waiting for a driver's {@code scala.concurrent.Future} from Java, the way Canton treats the outcome. */
public final class Futures {

  private Futures() {}

  /** The outcome of one driver call: a value, or the failure (a synchronous throw counts as a failed future). */
  public record Outcome<T>(T value, Throwable failure) {
    public boolean failed() {
      return failure != null;
    }
  }

  /** Calls the driver and waits; a synchronous throw is reported as a failure, as Canton treats it. */
  public static <T> Outcome<T> attempt(Supplier<Future<T>> call, Duration timeout) {
    Future<T> future;
    try {
      future = call.get();
    } catch (Throwable t) {
      return new Outcome<>(null, t);
    }
    if (future == null) {
      return new Outcome<>(null, new NullPointerException("the driver returned a null Future"));
    }
    try {
      return new Outcome<>(Await.result(future, new FiniteDuration(timeout.toMillis(), TimeUnit.MILLISECONDS)), null);
    } catch (TimeoutException e) {
      throw new AssertionError("the driver did not complete its Future within " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the driver", e);
    } catch (Throwable t) {
      return new Outcome<>(null, t);
    }
  }

  /** Calls the driver, waits, and returns the value; a failure fails the case with {@code what} and the cause. */
  public static <T> T await(String what, Supplier<Future<T>> call, Duration timeout) {
    Outcome<T> outcome = attempt(call, timeout);
    if (outcome.failed()) {
      throw new AssertionError(what + " failed: " + describe(outcome.failure()), outcome.failure());
    }
    return outcome.value();
  }

  /** A failure as Canton would see it: a KmsDriverException with its retryable flag, or a bug. */
  public static String describe(Throwable t) {
    if (t instanceof KmsDriverException k) {
      return "KmsDriverException(retryable=" + k.retryable() + ", cause=" + k.exception() + ")";
    }
    return t + " (not a KmsDriverException: Canton re-throws it as a bug)";
  }
}
