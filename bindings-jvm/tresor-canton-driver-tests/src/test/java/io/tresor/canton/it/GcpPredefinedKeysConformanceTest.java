package io.tresor.canton.it;

import com.typesafe.config.ConfigValue;
import io.tresor.canton.conformance.DriverUnderTest;
import io.tresor.canton.conformance.KmsDriverConformanceSuite;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Canton's conformance cases against the driver jar: GCP on tresor's test server, key generation off, predefined keys. */
@EnabledIfEnvironmentVariable(named = "TRESOR_TEST_GCP_ENDPOINT", matches = ".+")
class GcpPredefinedKeysConformanceTest extends KmsDriverConformanceSuite {

  @Override
  protected DriverUnderTest driverUnderTest() {
    ConfigValue raw = Backends.gcp("predefined").orElseThrow();
    return Backends.withPredefinedKeys(DriverUnderTest.builder(Backends.FACTORY, raw), raw)
        .operationTimeout(Backends.TIMEOUT)
        .build();
  }
}
