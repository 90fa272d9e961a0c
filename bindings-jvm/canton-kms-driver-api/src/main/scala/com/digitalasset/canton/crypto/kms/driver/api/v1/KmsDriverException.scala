// Part of tresor. Canton's KMS driver API v1, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.crypto.kms.driver.api.v1

/** The one failure type a driver's futures may carry; `retryable` makes Canton retry with backoff. */
final case class KmsDriverException(exception: Throwable, retryable: Boolean)
    extends RuntimeException(
      s"KMS Driver exception (retryable=$retryable): ${exception.getMessage}",
      exception,
    )
