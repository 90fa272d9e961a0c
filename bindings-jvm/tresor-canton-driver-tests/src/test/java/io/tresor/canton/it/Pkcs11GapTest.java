package io.tresor.canton.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import io.tresor.canton.conformance.DriverLoading;
import io.tresor.canton.conformance.RecordingLoggerFactory;
import io.tresor.canton.conformance.Specs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import scala.concurrent.ExecutionContext;

/**
 * The named gap of the PKCS#11 backend on SoftHSM2: no RSA-OAEP with SHA-256 (SoftHSM2 2.6.1 has OAEP with SHA-1
 * only), so the driver reports neither RSA-2048 nor RSA-OAEP-SHA256 there and Canton never asks for them. The software
 * backend's conformance classes cover RSA-OAEP-SHA256.
 */
@EnabledIfEnvironmentVariable(named = "TRESOR_TEST_PKCS11_MODULE", matches = ".+")
class Pkcs11GapTest {

  @Test
  void softHsmHasNoRsaOaepSha256AndTheDriverSaysSo() throws Exception {
    var factory = DriverLoading.findFactory(Backends.FACTORY);
    Object config = factory.configReader().from(Backends.pkcs11().orElseThrow()).toOption().get();
    KmsDriver driver = (KmsDriver) factory.create(config, new RecordingLoggerFactory(System.out), ExecutionContext.global());
    try {
      boolean rsa = Specs.toList(driver.supportedEncryptionAlgoSpecs()).contains(EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$);
      if (!rsa) {
        System.out.println("gap: pkcs11 on SoftHSM2: RSA-OAEP-SHA256 not offered by the token (OAEP with SHA-1 only)");
        assertFalse(Specs.toList(driver.supportedEncryptionKeySpecs()).contains(EncryptionKeySpec.Rsa2048$.MODULE$));
      }
      assertTrue(
          Specs.toList(driver.supportedEncryptionAlgoSpecs()).contains(EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$),
          "ECIES on P-256 is done with the token's ECDH");
    } finally {
      driver.close();
    }
  }
}
