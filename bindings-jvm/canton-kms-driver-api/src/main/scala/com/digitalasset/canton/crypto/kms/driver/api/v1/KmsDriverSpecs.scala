// Part of tresor. Canton's KMS driver API v1, declared from the facts in spec/canton-compat.md §1/§1a.
// The key and algorithm specs a v1 driver can name (there is no symmetric one).
package com.digitalasset.canton.crypto.kms.driver.api.v1

sealed trait KeySpec extends Product with Serializable

sealed trait SigningKeySpec extends KeySpec

object SigningKeySpec {
  case object EcCurve25519 extends SigningKeySpec
  case object EcP256 extends SigningKeySpec
  case object EcP384 extends SigningKeySpec
  case object EcSecp256k1 extends SigningKeySpec
}

sealed trait SigningAlgoSpec

object SigningAlgoSpec {
  case object Ed25519 extends SigningAlgoSpec
  case object EcDsaSha256 extends SigningAlgoSpec
  case object EcDsaSha384 extends SigningAlgoSpec
}

sealed trait EncryptionKeySpec extends KeySpec

object EncryptionKeySpec {
  case object EcP256 extends EncryptionKeySpec
  case object Rsa2048 extends EncryptionKeySpec
}

sealed trait EncryptionAlgoSpec

object EncryptionAlgoSpec {
  case object EciesHkdfHmacSha256Aes128Cbc extends EncryptionAlgoSpec
  case object RsaEsOaepSha256 extends EncryptionAlgoSpec
}
