package io.tresor.canton.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverHealth;
import com.digitalasset.canton.crypto.kms.driver.api.v1.PublicKey;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.opentelemetry.context.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import scala.Option;
import scala.concurrent.ExecutionContext;
import scala.concurrent.ExecutionContextExecutorService;
import scala.concurrent.Future;
import scala.util.Either;

/**
 * Canton's KMS driver conformance cases (spec/canton-compat.md §3: {@code KmsDriverFactoryTest} and
 * {@code KmsDriverTest}) as a JUnit 5 suite. A driver's test module extends it and says which driver to check:
 *
 * <pre>{@code
 * class MyDriverConformanceTest extends KmsDriverConformanceSuite {
 *   @Override
 *   protected DriverUnderTest driverUnderTest() {
 *     return DriverUnderTest.builder("my-kms", ConfigFactory.parseString("password = s3cret").root())
 *         .allowKeyGeneration(true)
 *         .secret("s3cret")
 *         .build();
 *   }
 * }
 * }</pre>
 *
 * The factory is found with {@code ServiceLoader.load(v1.KmsDriverFactory.class)} by {@code name()}, as Canton's
 * {@code DriverLoader} finds it; the config is read with {@code configReader().from(raw)}; {@code create} gets a
 * {@link RecordingLoggerFactory} and a dedicated execution context. One driver is shared by the driver cases and
 * closed at the end; every call passes {@code Context.root()}. Signatures are verified and ciphertexts produced by
 * {@link CantonReferenceCrypto} (BouncyCastle as Canton's JCE provider uses it).
 *
 * <p>Display names are Canton's case names. Cases marked "beyond Canton's suite" check what Canton itself enforces
 * elsewhere (its bounds, its retry policy, its checks of returned keys) and would otherwise surface only in a node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class KmsDriverConformanceSuite {

  /** The data Canton's suite signs and encrypts. */
  protected static final byte[] TEST_DATA = "test".getBytes(StandardCharsets.UTF_8);

  /** The unknown key id of Canton's "fail to sign with unknown key id". */
  protected static final String UNKNOWN_KEY_ID = "invalid";

  /** The one WARN Canton's suite tolerates during the unknown-key case. */
  public static final String TOLERATED_UNKNOWN_KEY_WARNING =
      "KMS operation `signing with key KmsKeyId(invalid)` failed";

  /** Canton's bounds (spec/canton-compat.md §1): key ids, symmetric plaintext and ciphertext. */
  protected static final int MAX_KEY_ID_CHARS = 300;

  protected static final int MAX_SYMMETRIC_PLAINTEXT = 4096;
  protected static final int MAX_SYMMETRIC_CIPHERTEXT = 6144;

  private static final Context CONTEXT = Context.root();

  /** The driver to check; called once per test class instance. */
  protected abstract DriverUnderTest driverUnderTest();

  private DriverUnderTest under;
  private KmsDriverFactory factory;
  private Object config;
  private RecordingLoggerFactory logs;
  private final List<ExecutorService> pools = Collections.synchronizedList(new ArrayList<>());
  private final List<AutoCloseable> driversToClose = Collections.synchronizedList(new ArrayList<>());
  private KmsDriver driver;
  private final List<String> generatedKeys = Collections.synchronizedList(new ArrayList<>());

  // --- set-up -----------------------------------------------------------------------------------------------

  @BeforeAll
  final void setUpDriverUnderTest() {
    under = driverUnderTest();
    assertNotNull(under, "driverUnderTest() returned null");
    if (!under.allowKeyGeneration()
        && (under.predefinedEncryptionKeys().isEmpty()
            || under.predefinedSigningKeys().isEmpty()
            || under.predefinedSymmetricKey().isEmpty())) {
      fail("Key generation is disabled, but predefined keys not configured (" + under + ")");
    }
    logs = new RecordingLoggerFactory(System.out);
    factory = DriverLoading.findFactory(under.factoryName());
    config = readConfig(under.rawConfig());
    driver = createDriver();
  }

  @AfterAll
  final void tearDownDriverUnderTest() {
    AssertionError problem = null;
    if (driver != null) {
      for (String keyId : List.copyOf(generatedKeys)) {
        Futures.Outcome<?> deleted = Futures.attempt(() -> driver.deleteKey(keyId, CONTEXT), under.operationTimeout());
        if (deleted.failed()) {
          System.out.println("[suite] could not delete generated key " + keyId + ": " + deleted.failure());
        }
      }
    }
    for (AutoCloseable closeable : List.copyOf(driversToClose)) {
      try {
        closeable.close();
      } catch (Exception e) {
        problem = new AssertionError("close() of the driver threw " + e, e);
      }
    }
    for (ExecutorService pool : List.copyOf(pools)) {
      pool.shutdownNow();
    }
    if (logs != null && under != null && under.secret().isPresent()) {
      String secret = under.secret().get();
      List<RecordingLoggerFactory.Event> leaks =
          logs.events().stream().filter(e -> e.fullText().contains(secret)).collect(Collectors.toList());
      if (!leaks.isEmpty()) {
        problem = new AssertionError("the driver logged the configured secret in " + leaks.size() + " event(s)");
      }
    }
    if (problem != null) {
      throw problem;
    }
  }

  private Object readConfig(ConfigValue raw) {
    Either<?, Object> read;
    try {
      read = factory.configReader().from(raw);
    } catch (RuntimeException e) {
      throw new AssertionError("configReader().from(config) threw " + e, e);
    }
    if (read.isLeft()) {
      throw new AssertionError("configReader() refuses the config: " + read.swap().toOption().get());
    }
    return read.toOption().get();
  }

  /** A new driver from the factory, as Canton creates one: synchronous, may throw. */
  private KmsDriver createDriver() {
    ExecutorService pool =
        Executors.newFixedThreadPool(
            2,
            runnable -> {
              Thread t = new Thread(runnable, "kms-driver-conformance-" + under.factoryName());
              t.setDaemon(true);
              return t;
            });
    pools.add(pool);
    ExecutionContextExecutorService ec = ExecutionContext.fromExecutorService(pool);
    Object created;
    try {
      created = factory.create(config, logs, ec);
    } catch (RuntimeException e) {
      throw new AssertionError("create(config, loggerFactory, executionContext) threw " + e, e);
    }
    assertNotNull(created, "create returned null");
    if (!(created instanceof KmsDriver)) {
      fail("create returned a " + created.getClass().getName() + ", not a v1.KmsDriver");
    }
    driversToClose.add((KmsDriver) created);
    return (KmsDriver) created;
  }

  private Duration timeout() {
    return under.operationTimeout();
  }

  private <T> T await(String what, Supplier<Future<T>> call) {
    return Futures.await(what, call, timeout());
  }

  private static void awaitHealthOk(KmsDriver driver, Duration timeout, Duration perCall) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (true) {
      Futures.Outcome<KmsDriverHealth> health = Futures.attempt(driver::health, perCall);
      if (!health.failed() && health.value() == KmsDriverHealth.Ok$.MODULE$) {
        return;
      }
      last = health.failed() ? "a failed Future (counts as Failed): " + health.failure() : String.valueOf(health.value());
      if (System.nanoTime() > deadline) {
        fail("health did not report Ok within " + timeout + "; last: " + last);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
    }
  }

  private static String render(ConfigValue value) {
    return value.render(ConfigRenderOptions.concise());
  }

  // --- KmsDriverFactoryTest ---------------------------------------------------------------------------------

  @Test
  @DisplayName("factory: found by ServiceLoader by name, API version 1")
  final void factoryIsFoundAsCantonFindsIt() {
    assertEquals(under.factoryName(), factory.name());
    assertEquals(1, factory.version(), "a v1 factory reports version() == 1");
    Option<String> buildInfo = factory.buildInfo();
    assertNotNull(buildInfo, "buildInfo() returns an Option, never null");
  }

  @Test
  @DisplayName("factory: also registered as the version-less api.KmsDriverFactory service (beyond Canton's suite)")
  final void factoryIsAlsoRegisteredVersionless() {
    List<String> versionless = DriverLoading.versionlessFactoryNames();
    assertTrue(
        versionless.stream().anyMatch(n -> n.startsWith(under.factoryName() + " (")),
        "Canton lists the version-less services when no v1 factory matches: ship"
            + " META-INF/services/com.digitalasset.canton.crypto.kms.driver.api.KmsDriverFactory too; found "
            + versionless);
  }

  @Test
  @DisplayName("create new driver")
  final void createNewDriver() {
    KmsDriver fresh = createDriver();
    awaitHealthOk(fresh, under.healthTimeout(), timeout());
  }

  @Test
  @DisplayName("driver config confidential writing")
  final void driverConfigConfidentialWriting() {
    ConfigValue confidential;
    try {
      confidential = factory.configWriter(true).to(config);
    } catch (RuntimeException e) {
      throw new AssertionError("configWriter(true).to(config) threw " + e, e);
    }
    assertNotNull(confidential);
    if (under.secret().isPresent()) {
      String secret = under.secret().get();
      String full = render(factory.configWriter(false).to(config));
      assertTrue(
          full.contains(secret),
          "the secret given to the suite does not appear in configWriter(false)'s output, so this case would prove"
              + " nothing: check DriverUnderTest.secret");
      assertFalse(render(confidential).contains(secret), "configWriter(true) wrote the secret");
    }
  }

  @Test
  @DisplayName("driver config writing and reading")
  final void driverConfigWritingAndReading() {
    ConfigValue written;
    try {
      written = factory.configWriter(false).to(config);
    } catch (RuntimeException e) {
      throw new AssertionError("configWriter(false).to(config) threw " + e, e);
    }
    Object reread = readConfig(written);
    assertEquals(config, reread, "configReader.from(configWriter(false).to(config)) == config");
  }

  // --- KmsDriverTest ---------------------------------------------------------------------------------------

  @Test
  @DisplayName("report health eventually as ok")
  final void reportHealthEventuallyAsOk() {
    awaitHealthOk(driver, under.healthTimeout(), timeout());
  }

  @Test
  @DisplayName("report at least one supported signing key specs")
  final void supportedSigningKeySpecs() {
    assertFalse(Specs.toList(driver.supportedSigningKeySpecs()).isEmpty());
  }

  @Test
  @DisplayName("report at least one supported signing algorithm specs")
  final void supportedSigningAlgoSpecs() {
    assertFalse(Specs.toList(driver.supportedSigningAlgoSpecs()).isEmpty());
  }

  @Test
  @DisplayName("report at least one supported encryption key specs")
  final void supportedEncryptionKeySpecs() {
    assertFalse(Specs.toList(driver.supportedEncryptionKeySpecs()).isEmpty());
  }

  @Test
  @DisplayName("report at least one supported encryption algorithm specs")
  final void supportedEncryptionAlgoSpecs() {
    assertFalse(Specs.toList(driver.supportedEncryptionAlgoSpecs()).isEmpty());
  }

  private void checkKeyId(String keyId) {
    assertNotNull(keyId, "the generated key id is null");
    assertFalse(keyId.isEmpty(), "the generated key id is empty");
    assertTrue(
        keyId.length() <= MAX_KEY_ID_CHARS,
        "Canton keeps key ids of at most 300 characters; got " + keyId.length());
  }

  private void generateCheckDelete(String what, Supplier<Future<String>> generate) {
    String keyId = await(what, generate);
    checkKeyId(keyId);
    await("keyExistsAndIsActive(" + keyId + ")", () -> driver.keyExistsAndIsActive(keyId, CONTEXT));
    await("deleteKey(" + keyId + ")", () -> driver.deleteKey(keyId, CONTEXT));
  }

  @TestFactory
  @DisplayName("per signing key spec:")
  final Stream<DynamicTest> generateSigningKeyPairs() {
    assumeTrue(under.allowKeyGeneration(), "key generation is not allowed");
    return Specs.toList(driver.supportedSigningKeySpecs()).stream()
        .map(
            spec ->
                dynamicTest(
                    "generate new signing key pair with " + spec,
                    () ->
                        generateCheckDelete(
                            "generateSigningKeyPair(" + spec + ")",
                            () -> driver.generateSigningKeyPair(spec, Option.empty(), CONTEXT))));
  }

  @TestFactory
  @DisplayName("per encryption key spec:")
  final Stream<DynamicTest> generateEncryptionKeyPairs() {
    assumeTrue(under.allowKeyGeneration(), "key generation is not allowed");
    return Specs.toList(driver.supportedEncryptionKeySpecs()).stream()
        .map(
            spec ->
                dynamicTest(
                    "generate new encryption key pair in " + spec,
                    () ->
                        generateCheckDelete(
                            "generateEncryptionKeyPair(" + spec + ")",
                            () -> driver.generateEncryptionKeyPair(spec, Option.empty(), CONTEXT))));
  }

  @Test
  @DisplayName("generate new symmetric key")
  final void generateSymmetricKey() {
    assumeTrue(under.allowKeyGeneration(), "key generation is not allowed");
    generateCheckDelete("generateSymmetricKey", () -> driver.generateSymmetricKey(Option.empty(), CONTEXT));
  }

  private String signingKeyFor(SigningKeySpec spec, String forWhat) {
    String predefined = under.predefinedSigningKeys().get(spec);
    if (predefined != null) {
      return predefined;
    }
    if (!under.allowKeyGeneration()) {
      fail("Key generation disabled and no key for " + forWhat + " defined");
    }
    String keyId =
        await("generateSigningKeyPair(" + spec + ")", () -> driver.generateSigningKeyPair(spec, Option.empty(), CONTEXT));
    checkKeyId(keyId);
    generatedKeys.add(keyId);
    return keyId;
  }

  private String encryptionKeyFor(EncryptionKeySpec spec, String forWhat) {
    String predefined = under.predefinedEncryptionKeys().get(spec);
    if (predefined != null) {
      return predefined;
    }
    if (!under.allowKeyGeneration()) {
      fail("Key generation disabled and no key for " + forWhat + " defined");
    }
    String keyId =
        await(
            "generateEncryptionKeyPair(" + spec + ")",
            () -> driver.generateEncryptionKeyPair(spec, Option.empty(), CONTEXT));
    checkKeyId(keyId);
    generatedKeys.add(keyId);
    return keyId;
  }

  /** getPublicKey, checked as Canton checks what a driver returns: the spec asked for, a valid DER SPKI. */
  private java.security.PublicKey publicKey(String keyId, KeySpec expected) {
    PublicKey kmsKey = await("getPublicKey(" + keyId + ")", () -> driver.getPublicKey(keyId, CONTEXT));
    assertNotNull(kmsKey, "getPublicKey returned null");
    assertNotNull(kmsKey.spec(), "the public key has no spec");
    if (expected instanceof SigningKeySpec && !(kmsKey.spec() instanceof SigningKeySpec)) {
      fail("getPublicKey of a signing key returned the encryption spec " + kmsKey.spec() + "; Canton refuses it");
    }
    if (expected instanceof EncryptionKeySpec && !(kmsKey.spec() instanceof EncryptionKeySpec)) {
      fail("getPublicKey of an encryption key returned the signing spec " + kmsKey.spec() + "; Canton refuses it");
    }
    assertEquals(expected, kmsKey.spec(), "getPublicKey's spec");
    return CantonReferenceCrypto.validatedPublicKey(kmsKey.key(), expected);
  }

  private void signAndVerify(SigningAlgoSpec algo, SigningKeySpec keySpec) {
    String keyId = signingKeyFor(keySpec, algo.toString());
    java.security.PublicKey publicKey = publicKey(keyId, keySpec);
    byte[] signature = await("sign(\"test\", " + keyId + ", " + algo + ")", () -> driver.sign(TEST_DATA, keyId, algo, CONTEXT));
    CantonReferenceCrypto.verify(publicKey, algo, TEST_DATA, signature);
  }

  @TestFactory
  @DisplayName("per signing algorithm:")
  final Stream<DynamicTest> signWithEachAlgo() {
    List<SigningAlgoSpec> algos = Specs.toList(driver.supportedSigningAlgoSpecs());
    List<DynamicTest> tests = new ArrayList<>();
    for (SigningAlgoSpec algo : algos) {
      tests.add(dynamicTest("sign with key and algo " + algo, () -> signAndVerify(algo, Specs.keySpecFor(algo))));
    }
    // Canton's core also signs EC-DSA-SHA256 with secp256k1 keys; its suite pairs that algorithm with P-256 only.
    SigningKeySpec k1 = SigningKeySpec.EcSecp256k1$.MODULE$;
    SigningAlgoSpec sha256 = SigningAlgoSpec.EcDsaSha256$.MODULE$;
    boolean k1Supported = Specs.toList(driver.supportedSigningKeySpecs()).contains(k1);
    if (algos.contains(sha256)
        && k1Supported
        && (under.allowKeyGeneration() || under.predefinedSigningKeys().containsKey(k1))) {
      tests.add(
          dynamicTest(
              "sign with key and algo EcDsaSha256 on an EcSecp256k1 key (beyond Canton's suite)",
              () -> signAndVerify(sha256, k1)));
    }
    return tests.stream();
  }

  @Test
  @DisplayName("fail to sign with unknown key id")
  final void failToSignWithUnknownKeyId() {
    List<SigningAlgoSpec> algos = Specs.toList(driver.supportedSigningAlgoSpecs());
    assertFalse(algos.isEmpty(), "no supported signing algo specs");
    SigningAlgoSpec algo = algos.get(0);
    int mark = logs.mark();
    Futures.Outcome<byte[]> outcome =
        Futures.attempt(() -> driver.sign(TEST_DATA, UNKNOWN_KEY_ID, algo, CONTEXT), timeout());
    List<RecordingLoggerFactory.Event> noisy =
        logs.eventsSince(mark).stream()
            .filter(RecordingLoggerFactory.Event::isWarnOrError)
            .filter(e -> !e.fullText().contains(TOLERATED_UNKNOWN_KEY_WARNING))
            .collect(Collectors.toList());
    if (!outcome.failed()) {
      fail("sign with the unknown key id '" + UNKNOWN_KEY_ID + "' succeeded");
    }
    if (!(outcome.failure() instanceof KmsDriverException)) {
      throw new AssertionError(
          "sign with an unknown key id must fail with KmsDriverException, got " + Futures.describe(outcome.failure()),
          outcome.failure());
    }
    assertTrue(
        noisy.isEmpty(),
        "the driver logged WARN/ERROR during an expected failure (Canton's suite fails on it): " + noisy);
  }

  @Test
  @DisplayName("fail to sign with unknown key id: not retryable (beyond Canton's suite)")
  final void unknownKeyIdIsNotRetryable() {
    List<SigningAlgoSpec> algos = Specs.toList(driver.supportedSigningAlgoSpecs());
    assumeTrue(!algos.isEmpty(), "no supported signing algo specs");
    Futures.Outcome<byte[]> outcome =
        Futures.attempt(() -> driver.sign(TEST_DATA, UNKNOWN_KEY_ID, algos.get(0), CONTEXT), timeout());
    assumeTrue(outcome.failure() instanceof KmsDriverException, "covered by 'fail to sign with unknown key id'");
    assertFalse(
        ((KmsDriverException) outcome.failure()).retryable(),
        "an unknown key is reported retryable: Canton would retry it forever (retries.failures has no limit)");
  }

  private void encryptAndDecrypt(EncryptionAlgoSpec algo) {
    EncryptionKeySpec keySpec = Specs.keySpecFor(algo);
    String keyId = encryptionKeyFor(keySpec, algo.toString());
    java.security.PublicKey publicKey = publicKey(keyId, keySpec);
    byte[] ciphertext = CantonReferenceCrypto.encrypt(publicKey, algo, TEST_DATA);
    byte[] plaintext =
        await(
            "decryptAsymmetric(Canton's " + algo + " ciphertext, " + keyId + ")",
            () -> driver.decryptAsymmetric(ciphertext, keyId, algo, CONTEXT));
    assertArrayEquals(TEST_DATA, plaintext, "decryptAsymmetric returns the plaintext");
  }

  @TestFactory
  @DisplayName("per encryption algorithm:")
  final Stream<DynamicTest> decryptWithEachAlgo() {
    return Specs.toList(driver.supportedEncryptionAlgoSpecs()).stream()
        .map(algo -> dynamicTest("decrypt with key and algo " + algo, () -> encryptAndDecrypt(algo)));
  }

  private String symmetricKey() {
    Optional<String> predefined = under.predefinedSymmetricKey();
    if (predefined.isPresent()) {
      return predefined.get();
    }
    if (!under.allowKeyGeneration()) {
      fail("Key generation disabled and no symmetric key defined");
    }
    String keyId = await("generateSymmetricKey", () -> driver.generateSymmetricKey(Option.empty(), CONTEXT));
    checkKeyId(keyId);
    generatedKeys.add(keyId);
    return keyId;
  }

  private void symmetricRoundTrip(byte[] data) {
    String keyId = symmetricKey();
    byte[] ciphertext = await("encryptSymmetric", () -> driver.encryptSymmetric(data, keyId, CONTEXT));
    assertNotNull(ciphertext, "encryptSymmetric returned null");
    assertTrue(
        ciphertext.length <= MAX_SYMMETRIC_CIPHERTEXT,
        "Canton refuses symmetric ciphertexts over 6144 bytes; got " + ciphertext.length);
    byte[] plaintext = await("decryptSymmetric", () -> driver.decryptSymmetric(ciphertext, keyId, CONTEXT));
    assertArrayEquals(data, plaintext, "decryptSymmetric(encryptSymmetric(d)) == d");
  }

  @Test
  @DisplayName("symmetric encrypt and decrypt with symmetric key")
  final void symmetricEncryptAndDecrypt() {
    symmetricRoundTrip(TEST_DATA);
  }

  @Test
  @DisplayName("symmetric encrypt and decrypt 4096 bytes, Canton's bound (beyond Canton's suite)")
  final void symmetricEncryptAndDecryptAtCantonsBound() {
    byte[] data = new byte[MAX_SYMMETRIC_PLAINTEXT];
    for (int k = 0; k < data.length; k++) {
      data[k] = (byte) k;
    }
    symmetricRoundTrip(data);
  }

  /** For subclasses that add cases: the shared driver (created in {@code @BeforeAll}). */
  protected final KmsDriver driver() {
    return driver;
  }

  /** For subclasses that add cases: the logger factory the driver was created with. */
  protected final RecordingLoggerFactory logs() {
    return logs;
  }
}
