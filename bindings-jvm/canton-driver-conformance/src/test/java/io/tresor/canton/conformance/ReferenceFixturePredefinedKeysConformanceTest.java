package io.tresor.canton.conformance;

import com.typesafe.config.ConfigFactory;
import io.tresor.canton.conformance.fixture.ReferenceFixtureDriverFactory;
import java.util.UUID;

/**
 * The conformance suite against the reference fixture with key generation off on both sides (the suite may not
 * generate, and the fixture refuses to): every case runs on predefined keys, the generation cases are skipped.
 */
class ReferenceFixturePredefinedKeysConformanceTest extends KmsDriverConformanceSuite {

  private static final String PASSPHRASE = "fixture-passphrase-" + UUID.randomUUID();

  @Override
  protected DriverUnderTest driverUnderTest() {
    DriverUnderTest.Builder builder =
        DriverUnderTest.builder(
                ReferenceFixtureDriverFactory.NAME,
                ConfigFactory.parseString(
                        "passphrase = \""
                            + PASSPHRASE
                            + "\"\nallow-key-generation = false\npredefined-keys = true\n")
                    .root())
            .allowKeyGeneration(false)
            .secret(PASSPHRASE)
            .predefinedSymmetricKey(ReferenceFixtureDriverFactory.predefinedSymmetricKeyId());
    Specs.SIGNING_KEY_SPECS.forEach(
        spec -> builder.predefinedSigningKey(spec, ReferenceFixtureDriverFactory.predefinedKeyId(spec)));
    Specs.ENCRYPTION_KEY_SPECS.forEach(
        spec -> builder.predefinedEncryptionKey(spec, ReferenceFixtureDriverFactory.predefinedKeyId(spec)));
    return builder.build();
  }
}
