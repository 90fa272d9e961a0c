package io.tresor.canton.conformance;

import com.typesafe.config.ConfigValueFactory;
import io.tresor.canton.conformance.fixture.ReferenceFixtureDriverFactory;
import java.util.Map;
import java.util.UUID;

/** The conformance suite against the reference fixture driver, key generation allowed: every case passes. */
class ReferenceFixtureConformanceTest extends KmsDriverConformanceSuite {

  private static final String PASSPHRASE = "fixture-passphrase-" + UUID.randomUUID();

  @Override
  protected DriverUnderTest driverUnderTest() {
    return DriverUnderTest.builder(
            ReferenceFixtureDriverFactory.NAME, ConfigValueFactory.fromMap(Map.of("passphrase", PASSPHRASE)))
        .allowKeyGeneration(true)
        .secret(PASSPHRASE)
        .build();
  }
}
