package io.tresor.canton.it;

import io.tresor.canton.conformance.DriverUnderTest;
import io.tresor.canton.conformance.KmsDriverConformanceSuite;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Canton's conformance cases against the driver jar: GCP backend on tresor's GCP KMS test server, keys generated. */
@EnabledIfEnvironmentVariable(named = "TRESOR_TEST_GCP_ENDPOINT", matches = ".+")
class GcpConformanceTest extends KmsDriverConformanceSuite {

  @Override
  protected DriverUnderTest driverUnderTest() {
    return DriverUnderTest.builder(Backends.FACTORY, Backends.gcp("conformance").orElseThrow())
        .allowKeyGeneration(true)
        .operationTimeout(Backends.TIMEOUT)
        .build();
  }
}
