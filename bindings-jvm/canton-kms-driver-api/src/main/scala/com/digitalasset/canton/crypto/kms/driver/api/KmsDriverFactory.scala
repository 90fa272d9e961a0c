// Part of tresor. Canton's KMS driver API, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.crypto.kms.driver.api

import com.digitalasset.canton.driver.api.DriverFactory

/** Version-less marker of a KMS driver factory (Canton lists these when no v1 factory matches). */
trait KmsDriverFactory extends DriverFactory {
  override type Driver <: KmsDriver
}
