// Part of tresor. Canton's KMS driver API v1, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.crypto.kms.driver.api.v1

import com.digitalasset.canton.crypto.kms.driver.api
import com.digitalasset.canton.driver.api.v1

/** A v1 KMS driver factory, found by Canton through `java.util.ServiceLoader`.
  *
  * The `val` compiles to an abstract `version()` and an abstract setter
  * `com$digitalasset$canton$crypto$kms$driver$api$v1$KmsDriverFactory$_setter_$version_$eq(int)` that a Java
  * implementation must provide (a no-op is fine); Java does not run the trait initialiser, so its `version()`
  * returns 1 itself.
  */
trait KmsDriverFactory extends api.KmsDriverFactory with v1.DriverFactory {

  override val version: Int = 1

  override type Driver <: KmsDriver
}
