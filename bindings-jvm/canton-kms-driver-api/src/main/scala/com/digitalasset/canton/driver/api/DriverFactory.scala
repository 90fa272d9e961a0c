// Part of tresor. Canton's driver API v1, declared from the facts in spec/canton-compat.md §1/§1a so that
// code compiled here links against Canton's own classes at run time. Names, packages and signatures are
// Canton's; nothing in this file is executed inside Canton (Canton brings its own copy).
package com.digitalasset.canton.driver.api

/** Version-less root of every Canton driver factory. */
trait DriverFactory {

  /** What the factory creates. */
  type Driver

  /** The name an operator writes in `crypto.kms.name`. */
  def name: String

  /** The API version the factory implements. */
  def version: Int
}
