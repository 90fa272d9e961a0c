package io.tresor.canton.it;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import io.opentelemetry.context.Context;
import io.tresor.canton.conformance.DriverLoading;
import io.tresor.canton.conformance.DriverUnderTest;
import io.tresor.canton.conformance.Futures;
import io.tresor.canton.conformance.RecordingLoggerFactory;
import io.tresor.canton.conformance.Specs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import scala.Option;
import scala.concurrent.ExecutionContext;

/** The backends the driver jar is tested against, and how to reach them. */
final class Backends {

  static final String FACTORY = "tresor";
  static final Duration TIMEOUT = Duration.ofSeconds(120);

  private Backends() {}

  static Path tempDir(String name) {
    try {
      return Files.createTempDirectory("tresor-driver-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** A software KMS in {@code dir}, its master key from a literal passphrase (a secret the writer must mask). */
  static ConfigValue software(Path dir, String passphrase) {
    return ConfigFactory.parseString(
            "type = software\npath = " + quote(dir.resolve("kms.db").toString()) + "\npassphrase = "
                + quote(passphrase) + "\naudit-logging = true\n")
        .root();
  }

  /** SoftHSM2, as scripts/services/softhsm.sh set it up (bindings-jvm/scripts/test.sh exports its env file). */
  static Optional<ConfigValue> pkcs11() {
    String module = System.getenv("TRESOR_TEST_PKCS11_MODULE");
    String token = System.getenv("TRESOR_TEST_PKCS11_TOKEN");
    String pinFile = System.getenv("TRESOR_TEST_PKCS11_PIN_FILE");
    if (module == null || token == null || pinFile == null || System.getenv("SOFTHSM2_CONF") == null) {
      return Optional.empty();
    }
    return Optional.of(
        ConfigFactory.parseString(
                "type = pkcs11\nmodule-path = " + quote(module) + "\ntoken-label = " + quote(token) + "\npin-file = "
                    + quote(pinFile) + "\naudit-logging = true\n")
            .root());
  }

  /** local-kms, as scripts/services/local-kms.sh started it (its URL in TRESOR_TEST_AWS_ENDPOINT). */
  static Optional<ConfigValue> aws() {
    String endpoint = System.getenv("TRESOR_TEST_AWS_ENDPOINT");
    if (endpoint == null || endpoint.isEmpty()) {
      return Optional.empty();
    }
    String region = Optional.ofNullable(System.getenv("AWS_REGION")).orElse("us-east-1");
    return Optional.of(
        ConfigFactory.parseString(
                "type = aws\nregion = " + quote(region) + "\nendpoint-override = " + quote(endpoint)
                    + "\naudit-logging = true\ncustom-tags { suite = conformance }\n")
            .root());
  }

  /**
   * tresor's GCP Cloud KMS REST test server, as scripts/services/gcp-kms.sh started it (its URL in
   * TRESOR_TEST_GCP_ENDPOINT), with a key ring of its own per test class (the driver creates it).
   */
  static Optional<ConfigValue> gcp(String ring) {
    String endpoint = System.getenv("TRESOR_TEST_GCP_ENDPOINT");
    if (endpoint == null || endpoint.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        ConfigFactory.parseString(
                "type = gcp\nlocation-id = global\nproject-id = tresor-test\nkey-ring-id = " + quote(ring + "-" + System.nanoTime())
                    + "\nendpoint-override = " + quote(endpoint) + "\naudit-logging = true\n")
            .root());
  }

  /**
   * Keys made beforehand, as an operator makes them for a node started with {@code auto-init = false}: one per
   * supported spec and a symmetric key, made through a separate driver of the same factory and config, closed
   * before the suite starts.
   */
  static DriverUnderTest.Builder withPredefinedKeys(DriverUnderTest.Builder builder, ConfigValue raw) {
    var factory = DriverLoading.findFactory(FACTORY);
    Object config = factory.configReader().from(raw).toOption().get();
    KmsDriver helper =
        (KmsDriver) factory.create(config, new RecordingLoggerFactory(System.out), ExecutionContext.global());
    try {
      for (SigningKeySpec spec : Specs.toList(helper.supportedSigningKeySpecs())) {
        String id =
            Futures.await("generate " + spec, () -> helper.generateSigningKeyPair(spec, Option.apply("predefined"), Context.root()), TIMEOUT);
        builder.predefinedSigningKey(spec, id);
      }
      for (EncryptionKeySpec spec : Specs.toList(helper.supportedEncryptionKeySpecs())) {
        String id =
            Futures.await("generate " + spec, () -> helper.generateEncryptionKeyPair(spec, Option.apply("predefined"), Context.root()), TIMEOUT);
        builder.predefinedEncryptionKey(spec, id);
      }
      builder.predefinedSymmetricKey(
          Futures.await("generate symmetric", () -> helper.generateSymmetricKey(Option.empty(), Context.root()), TIMEOUT));
    } finally {
      try {
        helper.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing the helper driver failed", e);
      }
    }
    return builder.allowKeyGeneration(false);
  }
}
