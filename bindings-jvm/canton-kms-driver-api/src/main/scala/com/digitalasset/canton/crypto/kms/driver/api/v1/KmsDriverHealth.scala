// Part of tresor. Canton's KMS driver API v1, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.crypto.kms.driver.api.v1

sealed trait KmsDriverHealth extends Product with Serializable

object KmsDriverHealth {

  case object Ok extends KmsDriverHealth

  /** The node reports degraded; its APIs keep serving. */
  final case class Degraded(reason: String) extends KmsDriverHealth

  /** The node's APIs stop serving; liveness stays up. */
  final case class Failed(reason: String) extends KmsDriverHealth

  /** Liveness fails and the node is restarted. */
  final case class Fatal(reason: String) extends KmsDriverHealth
}
