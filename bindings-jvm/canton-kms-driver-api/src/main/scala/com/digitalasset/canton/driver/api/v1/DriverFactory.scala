// Part of tresor. Canton's driver API v1, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.driver.api.v1

import com.digitalasset.canton.driver.api
import org.slf4j.Logger
import pureconfig.{ConfigReader, ConfigWriter}

import scala.concurrent.ExecutionContext

/** A v1 driver factory: configuration type, reader and writer, and a synchronous `create`. */
trait DriverFactory extends api.DriverFactory {

  def name: String

  def version: Int

  /** Free-form build information Canton logs when it loads the driver. */
  def buildInfo: Option[String]

  /** The driver's own configuration (the `config { ... }` block). */
  type ConfigType

  def configReader: ConfigReader[ConfigType]

  /** With `confidential = true` the writer must leave secrets out. */
  def configWriter(confidential: Boolean): ConfigWriter[ConfigType]

  /** Creates a driver; runs synchronously and throws on failure. The execution context is a pool Canton
    * dedicates to the driver and closes with it.
    */
  def create(
      config: ConfigType,
      loggerFactory: Class[_] => Logger,
      executionContext: ExecutionContext,
  ): Driver
}
