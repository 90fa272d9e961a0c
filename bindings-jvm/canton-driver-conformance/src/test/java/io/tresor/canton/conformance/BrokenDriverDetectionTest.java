package io.tresor.canton.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.typesafe.config.ConfigValueFactory;
import io.tresor.canton.conformance.fixture.Fault;
import io.tresor.canton.conformance.fixture.ReferenceFixtureDriverFactory;
import io.tresor.canton.conformance.fixture.ReferenceFixtureV1OnlyFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.engine.TestDescriptor;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * Proves that {@link KmsDriverConformanceSuite} can fail: it runs the suite, through the JUnit Platform test kit,
 * against the reference fixture with one deliberate bug at a time ({@link Fault}) and checks that exactly the cases
 * that bug concerns fail, with a message that names the problem, and every other case still passes.
 */
class BrokenDriverDetectionTest {

  private static final String PASSPHRASE = "fixture-passphrase-" + UUID.randomUUID();

  /** What the next run of {@link FaultySuite} checks; the test kit runs it synchronously on this thread. */
  private static volatile List<Fault> faults = List.of();

  private static volatile String factoryName = ReferenceFixtureDriverFactory.NAME;

  /** The suite against the fixture configured with {@link #faults} (not run by Surefire itself: nested class). */
  static class FaultySuite extends KmsDriverConformanceSuite {
    @Override
    protected DriverUnderTest driverUnderTest() {
      return DriverUnderTest.builder(
              factoryName,
              ConfigValueFactory.fromMap(
                  Map.of(
                      "passphrase",
                      PASSPHRASE,
                      "faults",
                      faults.stream().map(Fault::configName).collect(Collectors.toList()))))
          .secret(PASSPHRASE)
          .healthTimeout(Duration.ofSeconds(2))
          .build();
    }
  }

  /** Key generation off and nothing predefined: Canton's suite fails at once. */
  static class NoPredefinedKeysSuite extends KmsDriverConformanceSuite {
    @Override
    protected DriverUnderTest driverUnderTest() {
      return DriverUnderTest.builder(
              ReferenceFixtureDriverFactory.NAME, ConfigValueFactory.fromMap(Map.of("passphrase", PASSPHRASE)))
          .allowKeyGeneration(false)
          .predefinedSigningKey(
              com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec.EcP256$.MODULE$, "some-key")
          .build();
    }
  }

  /** What one run of a suite class did, by display name. */
  private record Run(
      Set<String> succeeded,
      Map<String, String> failed,
      Set<String> aborted,
      Map<String, String> failedContainers) {}

  private static synchronized Run run(Class<?> suite, String factory, List<Fault> withFaults) {
    factoryName = factory;
    faults = withFaults;
    try {
      EngineExecutionResults results =
          EngineTestKit.engine("junit-jupiter").selectors(selectClass(suite)).execute();
      Set<String> succeeded =
          results.testEvents().succeeded().stream()
              .map(BrokenDriverDetectionTest::name)
              .collect(Collectors.toCollection(TreeSet::new));
      Set<String> aborted =
          results.testEvents().aborted().stream()
              .map(BrokenDriverDetectionTest::name)
              .collect(Collectors.toCollection(TreeSet::new));
      Map<String, String> failed = new TreeMap<>();
      results.testEvents().failed().stream().forEach(e -> failed.put(name(e), message(e)));
      Map<String, String> failedContainers = new TreeMap<>();
      // A static nested class is displayed as Outer$Nested; keep the nested name.
      results.containerEvents().failed().stream()
          .forEach(e -> failedContainers.put(name(e).substring(name(e).lastIndexOf('$') + 1), message(e)));
      return new Run(succeeded, failed, aborted, failedContainers);
    } finally {
      factoryName = ReferenceFixtureDriverFactory.NAME;
      faults = List.of();
    }
  }

  private static String name(Event event) {
    TestDescriptor descriptor = event.getTestDescriptor();
    return descriptor.getDisplayName();
  }

  private static String message(Event event) {
    return event
        .getPayload(TestExecutionResult.class)
        .flatMap(TestExecutionResult::getThrowable)
        .map(t -> t.getClass().getSimpleName() + ": " + t.getMessage())
        .orElse("<no throwable>");
  }

  /** Every case of a full run against the fixture (it supports every v1 spec and allows generation). */
  static final Set<String> ALL_CASES =
      Set.of(
          "factory: found by ServiceLoader by name, API version 1",
          "factory: also registered as the version-less api.KmsDriverFactory service (beyond Canton's suite)",
          "create new driver",
          "driver config confidential writing",
          "driver config writing and reading",
          "report health eventually as ok",
          "report at least one supported signing key specs",
          "report at least one supported signing algorithm specs",
          "report at least one supported encryption key specs",
          "report at least one supported encryption algorithm specs",
          "generate new signing key pair with EcCurve25519",
          "generate new signing key pair with EcP256",
          "generate new signing key pair with EcP384",
          "generate new signing key pair with EcSecp256k1",
          "generate new encryption key pair in EcP256",
          "generate new encryption key pair in Rsa2048",
          "generate new symmetric key",
          "sign with key and algo Ed25519",
          "sign with key and algo EcDsaSha256",
          "sign with key and algo EcDsaSha384",
          "sign with key and algo EcDsaSha256 on an EcSecp256k1 key (beyond Canton's suite)",
          "fail to sign with unknown key id",
          "fail to sign with unknown key id: not retryable (beyond Canton's suite)",
          "decrypt with key and algo EciesHkdfHmacSha256Aes128Cbc",
          "decrypt with key and algo RsaEsOaepSha256",
          "symmetric encrypt and decrypt with symmetric key",
          "symmetric encrypt and decrypt 4096 bytes, Canton's bound (beyond Canton's suite)");

  private static final Set<String> ECDSA_SIGNING =
      Set.of(
          "sign with key and algo EcDsaSha256",
          "sign with key and algo EcDsaSha384",
          "sign with key and algo EcDsaSha256 on an EcSecp256k1 key (beyond Canton's suite)");

  private static final Set<String> EC_PUBLIC_KEYS =
      union(ECDSA_SIGNING, Set.of("decrypt with key and algo EciesHkdfHmacSha256Aes128Cbc"));

  private static final Set<String> GENERATION =
      ALL_CASES.stream().filter(n -> n.startsWith("generate new")).collect(Collectors.toSet());

  private static final Set<String> SYMMETRIC =
      ALL_CASES.stream().filter(n -> n.startsWith("symmetric")).collect(Collectors.toSet());

  private static Set<String> union(Set<String> a, Set<String> b) {
    return Stream.concat(a.stream(), b.stream()).collect(Collectors.toSet());
  }

  @Test
  void aCorrectDriverPassesEveryCase() {
    Run run = run(FaultySuite.class, ReferenceFixtureDriverFactory.NAME, List.of());
    assertEquals(Map.of(), run.failed(), "failed cases");
    assertEquals(Map.of(), run.failedContainers(), "failed containers");
    assertEquals(Set.of(), run.aborted(), "skipped cases");
    assertEquals(new TreeSet<>(ALL_CASES), run.succeeded());
  }

  /** fault, the cases it must fail, and a fragment every failure message must contain. */
  static Stream<Arguments> faultsAndTheCasesTheyBreak() {
    return faultTable()
        .map(a -> Arguments.of(a.get()[0], new TreeSet<>((Set<?>) a.get()[1]), a.get()[2]));
  }

  private static Stream<Arguments> faultTable() {
    return Stream.of(
        // "DER": the raw-signature message names it, and so does the strict-decoding one in the 1-in-65536 case
        // where random r ‖ s bytes happen to start like a DER SEQUENCE.
        Arguments.of(Fault.ECDSA_RAW_SIGNATURE, ECDSA_SIGNING, "DER"),
        Arguments.of(Fault.ECDSA_NON_MINIMAL_DER, ECDSA_SIGNING, "BouncyCastle rejects the"),
        Arguments.of(Fault.ED25519_SIGNS_DIGEST, Set.of("sign with key and algo Ed25519"), "does not verify"),
        Arguments.of(Fault.COMPRESSED_EC_POINT, EC_PUBLIC_KEYS, "EC points must be uncompressed"),
        Arguments.of(Fault.EC_POINT_OFF_CURVE, EC_PUBLIC_KEYS, "not on the curve"),
        Arguments.of(Fault.WRONG_PUBLIC_KEY_SPEC, Set.of("sign with key and algo EcDsaSha256"), "encryption spec EcP256"),
        Arguments.of(Fault.RSA_EXPONENT_3, Set.of("decrypt with key and algo RsaEsOaepSha256"), "65537"),
        Arguments.of(
            Fault.RSA_OAEP_MGF1_SHA1, Set.of("decrypt with key and algo RsaEsOaepSha256"), "decryptAsymmetric"),
        Arguments.of(
            Fault.ECIES_EXPECTS_NO_IV,
            Set.of("decrypt with key and algo EciesHkdfHmacSha256Aes128Cbc"),
            "decryptAsymmetric"),
        Arguments.of(Fault.WARN_ON_UNKNOWN_KEY, Set.of("fail to sign with unknown key id"), "logged WARN/ERROR"),
        Arguments.of(
            Fault.UNKNOWN_KEY_ILLEGAL_ARGUMENT, Set.of("fail to sign with unknown key id"), "must fail with KmsDriverException"),
        Arguments.of(
            Fault.UNKNOWN_KEY_RETRYABLE,
            Set.of("fail to sign with unknown key id: not retryable (beyond Canton's suite)"),
            "retry it forever"),
        Arguments.of(
            Fault.LEAK_SECRET_IN_CONFIDENTIAL_CONFIG, Set.of("driver config confidential writing"), "wrote the secret"),
        Arguments.of(Fault.LOSSY_CONFIG_WRITER, Set.of("driver config writing and reading"), "== config"),
        Arguments.of(
            Fault.HEALTH_DEGRADED,
            Set.of("create new driver", "report health eventually as ok"),
            "did not report Ok within PT2S; last: Degraded(fixture fault)"),
        Arguments.of(
            Fault.NO_ENCRYPTION_ALGOS,
            Set.of("report at least one supported encryption algorithm specs"),
            "expected: <false>"),
        Arguments.of(Fault.KEYS_NEVER_ACTIVE, GENERATION, "keyExistsAndIsActive"),
        Arguments.of(
            Fault.KEY_ID_TOO_LONG,
            union(
                union(GENERATION, SYMMETRIC),
                union(
                    ECDSA_SIGNING,
                    Set.of(
                        "sign with key and algo Ed25519",
                        "decrypt with key and algo EciesHkdfHmacSha256Aes128Cbc",
                        "decrypt with key and algo RsaEsOaepSha256"))),
            "at most 300 characters"),
        Arguments.of(Fault.SYMMETRIC_DECRYPT_RETURNS_INPUT, SYMMETRIC, "decryptSymmetric(encryptSymmetric(d)) == d"));
  }

  @ParameterizedTest(name = "{0} fails exactly {1}")
  @MethodSource("faultsAndTheCasesTheyBreak")
  void aBrokenDriverFailsTheCasesItBreaks(Fault fault, Set<String> expectedFailures, String messageFragment) {
    Run run = run(FaultySuite.class, ReferenceFixtureDriverFactory.NAME, List.of(fault));
    assertEquals(new TreeSet<>(expectedFailures), run.failed().keySet(), () -> "failed cases: " + run.failed());
    run.failed()
        .forEach(
            (name, message) ->
                assertTrue(
                    message.contains(messageFragment),
                    () -> "'" + name + "' failed with '" + message + "', expected it to mention '" + messageFragment + "'"));
    assertEquals(Map.of(), run.failedContainers(), "failed containers");
    Set<String> others = new TreeSet<>(ALL_CASES);
    others.removeAll(expectedFailures);
    others.removeAll(run.aborted());
    if (fault == Fault.NO_ENCRYPTION_ALGOS) {
      others.removeIf(n -> n.startsWith("decrypt with"));
    }
    assertEquals(others, run.succeeded(), "every other case still passes");
  }

  @Test
  void anIllegalArgumentExceptionForAnUnknownKeySkipsTheRetryableCheckInsteadOfPassingIt() {
    Run run = run(FaultySuite.class, ReferenceFixtureDriverFactory.NAME, List.of(Fault.UNKNOWN_KEY_ILLEGAL_ARGUMENT));
    assertEquals(Set.of("fail to sign with unknown key id: not retryable (beyond Canton's suite)"), run.aborted());
  }

  @Test
  void aSecretInTheDriversLogsFailsTheSuite() {
    Run run = run(FaultySuite.class, ReferenceFixtureDriverFactory.NAME, List.of(Fault.SECRET_IN_LOGS));
    assertEquals(Map.of(), run.failed());
    assertEquals(Set.of("FaultySuite"), run.failedContainers().keySet());
    assertTrue(run.failedContainers().get("FaultySuite").contains("logged the configured secret"), run::toString);
  }

  @Test
  void aFactoryMissingFromTheVersionlessServiceFileFailsThatCase() {
    Run run = run(FaultySuite.class, ReferenceFixtureV1OnlyFactory.NAME, List.of());
    assertEquals(
        Set.of("factory: also registered as the version-less api.KmsDriverFactory service (beyond Canton's suite)"),
        run.failed().keySet());
    assertEquals(ALL_CASES.size() - 1, run.succeeded().size());
  }

  @Test
  void anUnknownFactoryNameFailsEverythingAndSaysWhatWasFound() {
    Run run = run(FaultySuite.class, "no-such-driver", List.of());
    assertEquals(Set.of(), run.succeeded());
    String message = run.failedContainers().get("FaultySuite");
    assertTrue(message.contains("no v1.KmsDriverFactory named 'no-such-driver'"), message);
    assertTrue(message.contains(ReferenceFixtureDriverFactory.NAME), message);
  }

  @Test
  void generationOffWithAnEmptyPredefinedCollectionFailsAtOnce() {
    Run run = run(NoPredefinedKeysSuite.class, ReferenceFixtureDriverFactory.NAME, List.of());
    assertEquals(Set.of(), run.succeeded(), "no case runs");
    assertEquals(Map.of(), run.failed());
    String message = run.failedContainers().get("NoPredefinedKeysSuite");
    assertTrue(message.contains("Key generation is disabled, but predefined keys not configured"), message);
  }
}
