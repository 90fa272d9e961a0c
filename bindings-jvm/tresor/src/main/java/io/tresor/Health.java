package io.tresor;

import java.util.Objects;
import java.util.Optional;

/**
 * The health of a vault's KMS, as Canton's {@code KmsDriverHealth} reports it.
 *
 * @param status ok, degraded, failed or fatal
 * @param reason why it is not ok
 */
public record Health(Status status, Optional<String> reason) {

  /** Canton's four health states. */
  public enum Status {
    /** Serving. */
    OK,
    /** Serving, with a problem worth reporting. */
    DEGRADED,
    /** Not serving; the process stays alive. */
    FAILED,
    /** Not serving and not recoverable without a restart. */
    FATAL
  }

  public Health {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(reason, "reason");
  }

  public boolean isOk() {
    return status == Status.OK;
  }

  static Health fromNative(String[] pair) {
    Status s =
        switch (pair[0]) {
          case "ok" -> Status.OK;
          case "degraded" -> Status.DEGRADED;
          case "failed" -> Status.FAILED;
          default -> Status.FATAL;
        };
    return new Health(s, Optional.ofNullable(pair[1]));
  }
}
