package io.tresor.canton.api;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverHealth;
import com.digitalasset.canton.crypto.kms.driver.api.v1.PublicKey;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import io.opentelemetry.context.Context;
import java.util.Set;
import org.slf4j.Logger;
import scala.Option;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.BoxedUnit;

/** The driver side of {@link JavaShapeFactory}: every v1 method with the Java signature §1a lists. */
final class JavaShapeDriver implements KmsDriver {

  private final Logger logger;

  JavaShapeDriver(Logger logger) {
    this.logger = logger;
  }

  private static <T> scala.collection.immutable.Set<T> set(Set<T> values) {
    return CollectionConverters.asScala(values).toSet();
  }

  private static <T> Future<T> unsupported() {
    // Not Future.failed(...): the instance method failed() blocks the static forwarder (see DriverApiShapeTest).
    return scala.concurrent.Future$.MODULE$.failed(new KmsDriverException(new UnsupportedOperationException("shape only"), false));
  }

  @Override
  public Future<KmsDriverHealth> health() {
    return Future.successful(KmsDriverHealth.Ok$.MODULE$);
  }

  @Override
  public scala.collection.immutable.Set<SigningKeySpec> supportedSigningKeySpecs() {
    return set(Set.of(SigningKeySpec.EcP256$.MODULE$));
  }

  @Override
  public scala.collection.immutable.Set<SigningAlgoSpec> supportedSigningAlgoSpecs() {
    return set(Set.of(SigningAlgoSpec.EcDsaSha256$.MODULE$));
  }

  @Override
  public scala.collection.immutable.Set<EncryptionKeySpec> supportedEncryptionKeySpecs() {
    return set(Set.of(EncryptionKeySpec.Rsa2048$.MODULE$));
  }

  @Override
  public scala.collection.immutable.Set<EncryptionAlgoSpec> supportedEncryptionAlgoSpecs() {
    return set(Set.of(EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$));
  }

  @Override
  public Future<String> generateSigningKeyPair(SigningKeySpec spec, Option<String> keyName, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<String> generateEncryptionKeyPair(EncryptionKeySpec spec, Option<String> keyName, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<String> generateSymmetricKey(Option<String> keyName, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<byte[]> sign(byte[] data, String keyId, SigningAlgoSpec algo, Context ctx) {
    logger.debug("sign with {}", keyId);
    return unsupported();
  }

  @Override
  public Future<byte[]> decryptAsymmetric(byte[] ciphertext, String keyId, EncryptionAlgoSpec algo, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<byte[]> encryptSymmetric(byte[] data, String keyId, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<byte[]> decryptSymmetric(byte[] ciphertext, String keyId, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<PublicKey> getPublicKey(String keyId, Context ctx) {
    return unsupported();
  }

  @Override
  public Future<BoxedUnit> keyExistsAndIsActive(String keyId, Context ctx) {
    return Future.successful(BoxedUnit.UNIT);
  }

  @Override
  public Future<BoxedUnit> deleteKey(String keyId, Context ctx) {
    return Future.successful(BoxedUnit.UNIT);
  }

  @Override
  public void close() {}
}
