package io.tresor.canton.it;

import com.typesafe.config.ConfigValue;
import io.tresor.canton.conformance.DriverUnderTest;
import io.tresor.canton.conformance.KmsDriverConformanceSuite;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Canton's conformance cases against the driver jar: PKCS#11 on SoftHSM2, key generation off, predefined keys. */
@EnabledIfEnvironmentVariable(named = "TRESOR_TEST_PKCS11_MODULE", matches = ".+")
class Pkcs11PredefinedKeysConformanceTest extends KmsDriverConformanceSuite {

  @Override
  protected DriverUnderTest driverUnderTest() {
    ConfigValue raw = Backends.pkcs11().orElseThrow();
    return Backends.withPredefinedKeys(DriverUnderTest.builder(Backends.FACTORY, raw), raw)
        .operationTimeout(Backends.TIMEOUT)
        .build();
  }
}
