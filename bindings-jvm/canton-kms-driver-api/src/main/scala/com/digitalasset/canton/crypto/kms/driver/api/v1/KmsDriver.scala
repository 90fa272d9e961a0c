// Part of tresor. Canton's KMS driver API v1, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.crypto.kms.driver.api.v1

import com.digitalasset.canton.crypto.kms.driver.api
import io.opentelemetry.context.Context

import scala.concurrent.Future

/** A KMS driver, API v1. Every operation is asynchronous; a failure is a failed `Future` carrying a
  * [[KmsDriverException]] (Canton re-throws any other exception type as a bug). The second parameter list is
  * Canton's OpenTelemetry context, which the driver may pass on to its KMS.
  *
  * Canton's bounds: sign input and symmetric plaintext at most 4096 bytes, symmetric ciphertext at most 6144,
  * asymmetric ciphertext at most 6144 as far as the driver is concerned; key names and ids at most 300 chars.
  */
trait KmsDriver extends api.KmsDriver with AutoCloseable {

  /** The driver's health; the future must not fail (a failed one counts as `Failed`). */
  def health: Future[KmsDriverHealth]

  /** Non-empty; Canton refuses a driver with an empty set. */
  def supportedSigningKeySpecs: Set[SigningKeySpec]

  def supportedSigningAlgoSpecs: Set[SigningAlgoSpec]

  def supportedEncryptionKeySpecs: Set[EncryptionKeySpec]

  def supportedEncryptionAlgoSpecs: Set[EncryptionAlgoSpec]

  /** Returns the new key's id. */
  def generateSigningKeyPair(
      signingKeySpec: SigningKeySpec,
      keyName: Option[String],
  )(traceContext: Context): Future[String]

  def generateEncryptionKeyPair(
      encryptionKeySpec: EncryptionKeySpec,
      keyName: Option[String],
  )(traceContext: Context): Future[String]

  /** A key of the KMS's default symmetric scheme. */
  def generateSymmetricKey(keyName: Option[String])(traceContext: Context): Future[String]

  /** ECDSA signatures are DER `SEQUENCE { r, s }`, Ed25519 signatures the raw 64 bytes. Fails non-retryably
    * when the algorithm does not fit the key.
    */
  def sign(data: Array[Byte], keyId: String, algoSpec: SigningAlgoSpec)(
      traceContext: Context
  ): Future[Array[Byte]]

  /** Decrypts a ciphertext in Canton's format for `algoSpec` (spec/canton-compat.md §6). */
  def decryptAsymmetric(
      ciphertext: Array[Byte],
      keyId: String,
      algoSpec: EncryptionAlgoSpec,
  )(traceContext: Context): Future[Array[Byte]]

  def encryptSymmetric(data: Array[Byte], keyId: String)(traceContext: Context): Future[Array[Byte]]

  def decryptSymmetric(ciphertext: Array[Byte], keyId: String)(
      traceContext: Context
  ): Future[Array[Byte]]

  /** DER SubjectPublicKeyInfo with uncompressed EC points, and the key's spec. */
  def getPublicKey(keyId: String)(traceContext: Context): Future[PublicKey]

  /** Fails when the key is missing or not active. */
  def keyExistsAndIsActive(keyId: String)(traceContext: Context): Future[Unit]

  /** Completes when the key is deleted or its deletion scheduled. */
  def deleteKey(keyId: String)(traceContext: Context): Future[Unit]
}

/** A public key exported from the KMS: DER X.509 SubjectPublicKeyInfo and its spec. */
final case class PublicKey(key: Array[Byte], spec: KeySpec)
