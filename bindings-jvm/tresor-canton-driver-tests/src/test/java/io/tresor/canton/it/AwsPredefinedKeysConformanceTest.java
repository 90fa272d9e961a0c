package io.tresor.canton.it;

import com.typesafe.config.ConfigValue;
import io.tresor.canton.conformance.DriverUnderTest;
import io.tresor.canton.conformance.KmsDriverConformanceSuite;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Canton's conformance cases against the driver jar: AWS on local-kms, key generation off, predefined keys. */
@EnabledIfEnvironmentVariable(named = "TRESOR_TEST_AWS_ENDPOINT", matches = ".+")
class AwsPredefinedKeysConformanceTest extends KmsDriverConformanceSuite {

  @Override
  protected DriverUnderTest driverUnderTest() {
    ConfigValue raw = Backends.aws().orElseThrow();
    return Backends.withPredefinedKeys(DriverUnderTest.builder(Backends.FACTORY, raw), raw)
        .operationTimeout(Backends.TIMEOUT)
        .build();
  }
}
