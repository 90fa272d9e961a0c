package io.tresor.canton.it;

import com.typesafe.config.ConfigValue;
import io.tresor.canton.conformance.DriverUnderTest;
import io.tresor.canton.conformance.KmsDriverConformanceSuite;

/** Canton's conformance cases against the driver jar: software backend, key generation off, predefined keys. */
class SoftwarePredefinedKeysConformanceTest extends KmsDriverConformanceSuite {

  static final String SECRET = "another-s3cret-passphrase";

  @Override
  protected DriverUnderTest driverUnderTest() {
    ConfigValue raw = Backends.software(Backends.tempDir("software-predefined"), SECRET);
    return Backends.withPredefinedKeys(DriverUnderTest.builder(Backends.FACTORY, raw), raw)
        .secret(SECRET)
        .operationTimeout(Backends.TIMEOUT)
        .build();
  }
}
