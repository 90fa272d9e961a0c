package io.tresor.canton.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverHealth;
import com.digitalasset.canton.crypto.kms.driver.api.v1.PublicKey;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.opentelemetry.context.Context;
import io.tresor.canton.conformance.DriverLoading;
import io.tresor.canton.conformance.Futures;
import io.tresor.canton.conformance.RecordingLoggerFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import scala.Option;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.util.Either;

/** What Canton's suite does not check but a node relies on: config handling, failures, logging, close, threads. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DriverBehaviourTest {

  private static final String SECRET = "behaviour-s3cret";
  private static final Context CTX = Context.root();
  private static final Duration T = Duration.ofSeconds(60);
  private static final byte[] DATA = "data".getBytes(StandardCharsets.UTF_8);

  private KmsDriverFactory factory;
  private Path dir;
  private RecordingLoggerFactory logs;
  private KmsDriver driver;

  @BeforeAll
  void setUp() {
    factory = DriverLoading.findFactory(Backends.FACTORY);
    dir = Backends.tempDir("behaviour");
    logs = new RecordingLoggerFactory(System.out);
    driver = create(Backends.software(dir, SECRET));
  }

  @AfterAll
  void tearDown() throws Exception {
    driver.close();
  }

  private Object read(ConfigValue raw) {
    Either<?, Object> r = factory.configReader().from(raw);
    assertTrue(r.isRight(), () -> "config refused: " + r);
    return r.toOption().get();
  }

  private KmsDriver create(ConfigValue raw) {
    return (KmsDriver) factory.create(read(raw), logs, ExecutionContext.global());
  }

  private static String render(ConfigValue v) {
    return v.render(ConfigRenderOptions.concise());
  }

  @Test
  void theConfigIsReadByTheCoreAndSecretsAreMasked() {
    Object config = read(Backends.software(dir, SECRET));
    String full = render(factory.configWriter(false).to(config));
    String confidential = render(factory.configWriter(true).to(config));
    assertTrue(full.contains(SECRET));
    assertFalse(confidential.contains(SECRET), confidential);
    assertTrue(confidential.contains("***"), confidential);
    assertFalse(config.toString().contains(SECRET), config.toString());
    assertEquals(config, read(factory.configWriter(false).to(config)));
    // Canonical: defaults are written, equal configs compare equal however they were spelt.
    Object spelt =
        read(ConfigFactory.parseString("type: software\npath: \"" + dir.resolve("kms.db") + "\"\npassphrase: \"" + SECRET
                + "\"\naudit-logging: \"yes\"").root());
    assertEquals(config, spelt);

    Either<?, Object> unknown =
        factory.configReader().from(ConfigFactory.parseString("type = software\npath = x\npassphrase = y\nregoin = z").root());
    assertTrue(unknown.isLeft());
    assertTrue(unknown.toString().contains("regoin"), unknown.toString());
    Either<?, Object> masked =
        factory.configReader().from(ConfigFactory.parseString("type = software\npath = x\npassphrase = y\nnested { a = [1] }").root());
    assertTrue(masked.isLeft());
    Either<?, Object> noType = factory.configReader().from(ConfigFactory.parseString("region = x").root());
    assertTrue(noType.isLeft());
    assertFalse(noType.toString().contains(SECRET));
    Either<?, Object> secretInError =
        factory.configReader().from(ConfigFactory.parseString("type = software\npath = x\npassphrase = \"" + SECRET + "\"\nbogus = 1").root());
    assertTrue(secretInError.isLeft());
    assertFalse(secretInError.toString().contains(SECRET), secretInError.toString());
  }

  @Test
  void createFailsWithKmsDriverExceptionOnAWrongPassphrase() {
    Object wrong = read(Backends.software(dir, "not the passphrase"));
    KmsDriverException e =
        assertThrows(KmsDriverException.class, () -> factory.create(wrong, logs, ExecutionContext.global()));
    assertFalse(e.retryable());
    assertFalse(e.getMessage().contains("not the passphrase"));
  }

  private Futures.Outcome<byte[]> sign(String keyId, SigningAlgoSpec algo) {
    return Futures.attempt(() -> driver.sign(DATA, keyId, algo, CTX), T);
  }

  @Test
  void expectedFailuresAreNotRetryableAndLoggedBelowWarn() {
    String ec = Futures.await("generate", () -> driver.generateSigningKeyPair(SigningKeySpec.EcP256$.MODULE$, Option.empty(), CTX), T);
    int mark = logs.mark();
    List<Futures.Outcome<?>> outcomes = new ArrayList<>();
    outcomes.add(sign("invalid", SigningAlgoSpec.EcDsaSha256$.MODULE$));
    outcomes.add(sign(ec, SigningAlgoSpec.Ed25519$.MODULE$));
    outcomes.add(sign(ec, SigningAlgoSpec.EcDsaSha384$.MODULE$));
    outcomes.add(sign("x".repeat(301), SigningAlgoSpec.EcDsaSha256$.MODULE$));
    outcomes.add(sign("", SigningAlgoSpec.EcDsaSha256$.MODULE$));
    outcomes.add(Futures.attempt(() -> driver.sign(new byte[5000], ec, SigningAlgoSpec.EcDsaSha256$.MODULE$, CTX), T));
    outcomes.add(Futures.attempt(() -> driver.decryptSymmetric(new byte[10], ec, CTX), T));
    outcomes.add(Futures.attempt(() -> driver.getPublicKey("soft-00", CTX), T));
    outcomes.add(Futures.attempt(() -> driver.keyExistsAndIsActive("invalid", CTX), T));
    for (Futures.Outcome<?> o : outcomes) {
      assertTrue(o.failed(), "must fail");
      KmsDriverException e = assertInstanceOf(KmsDriverException.class, o.failure());
      assertFalse(e.retryable(), e.getMessage());
      assertInstanceOf(io.tresor.TresorException.class, e.getCause());
    }
    List<RecordingLoggerFactory.Event> noisy =
        logs.eventsSince(mark).stream().filter(RecordingLoggerFactory.Event::isWarnOrError).collect(Collectors.toList());
    assertTrue(noisy.isEmpty(), "expected failures logged at WARN or ERROR: " + noisy);
    assertTrue(
        logs.eventsSince(mark).stream().anyMatch(e -> e.message().contains("sign failed")),
        "expected failures are logged (at DEBUG)");
    Futures.await("delete", () -> driver.deleteKey(ec, CTX), T);
  }

  @Test
  void publicKeysCarryTheirSpecAndRoundTripsWork() {
    String enc = Futures.await("generate", () -> driver.generateEncryptionKeyPair(EncryptionKeySpec.Rsa2048$.MODULE$, Option.apply("r"), CTX), T);
    PublicKey pk = Futures.await("getPublicKey", () -> driver.getPublicKey(enc, CTX), T);
    assertEquals(EncryptionKeySpec.Rsa2048$.MODULE$, pk.spec());
    String sym = Futures.await("generate", () -> driver.generateSymmetricKey(Option.empty(), CTX), T);
    byte[] ct = Futures.await("enc", () -> driver.encryptSymmetric(DATA, sym, CTX), T);
    assertEquals(new String(DATA, StandardCharsets.UTF_8),
        new String(Futures.await("dec", () -> driver.decryptSymmetric(ct, sym, CTX), T), StandardCharsets.UTF_8));
    Futures.Outcome<PublicKey> symKey = Futures.attempt(() -> driver.getPublicKey(sym, CTX), T);
    assertTrue(symKey.failed(), "a symmetric key has no public key");
    assertInstanceOf(KmsDriverException.class, symKey.failure());
  }

  /**
   * A call whose result is ready at once (a prepared software key) completes before it returns; one that waits
   * (a database write) completes later on a tresor runtime thread, never on the caller's.
   */
  @Test
  void callsCompleteInlineWhenReadyAndOnTresorThreadsOtherwise() throws Exception {
    String key = Futures.await("generate", () -> driver.generateSigningKeyPair(SigningKeySpec.EcCurve25519$.MODULE$, Option.empty(), CTX), T);
    Futures.await("warm", () -> driver.sign(DATA, key, SigningAlgoSpec.Ed25519$.MODULE$, CTX), T);
    Future<byte[]> ready = driver.sign(DATA, key, SigningAlgoSpec.Ed25519$.MODULE$, CTX);
    assertTrue(ready.isCompleted(), "signing with a prepared key completes inline");

    int pendingSeen = 0;
    for (int i = 0; i < 5; i++) {
      AtomicReference<String> thread = new AtomicReference<>();
      Future<String> generated = driver.generateSymmetricKey(Option.empty(), CTX);
      boolean completedInline = generated.isCompleted();
      generated.onComplete(
          r -> {
            thread.set(Thread.currentThread().getName());
            return null;
          },
          ExecutionContext.fromExecutor(Runnable::run));
      Futures.await("generated", () -> generated, T);
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (thread.get() == null && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertNotNull(thread.get());
      if (!completedInline) {
        pendingSeen++;
        assertTrue(
            thread.get().startsWith("tresor") || thread.get().equals(Thread.currentThread().getName()),
            "completed on " + thread.get());
      }
    }
    assertTrue(pendingSeen > 0, "a database write never completed asynchronously");
  }

  @Test
  void healthIsOkAndNeverFails() {
    assertEquals(KmsDriverHealth.Ok$.MODULE$, Futures.await("health", driver::health, T));
  }

  @Test
  void closeReleasesTheNativeSideAndLaterCallsFailCleanly() throws Exception {
    KmsDriver d = create(Backends.software(Backends.tempDir("close"), SECRET));
    String key = Futures.await("generate", () -> d.generateSigningKeyPair(SigningKeySpec.EcP256$.MODULE$, Option.empty(), CTX), T);
    List<Future<?>> inFlight = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      inFlight.add(d.keyExistsAndIsActive(key, CTX));
      inFlight.add(d.generateSymmetricKey(Option.empty(), CTX));
    }
    d.close();
    d.close();
    for (Future<?> f : inFlight) {
      Futures.Outcome<?> o = Futures.attempt(() -> f, T);
      if (o.failed()) {
        assertInstanceOf(KmsDriverException.class, o.failure());
      }
    }
    Futures.Outcome<byte[]> after = Futures.attempt(() -> d.sign(DATA, key, SigningAlgoSpec.EcDsaSha256$.MODULE$, CTX), T);
    assertTrue(after.failed());
    assertFalse(assertInstanceOf(KmsDriverException.class, after.failure()).retryable());
    KmsDriverHealth h = Futures.await("health", d::health, T);
    assertInstanceOf(KmsDriverHealth.Failed.class, h);
  }

  @Test
  void theAuditLogRecordsCallsWithoutSecrets() throws Exception {
    Path audit = Path.of(System.getenv().getOrDefault("KMS_LOG_FILE_NAME", "tresor-kms-audit.log"));
    String key = Futures.await("generate", () -> driver.generateSigningKeyPair(SigningKeySpec.EcP384$.MODULE$, Option.empty(), CTX), T);
    Futures.await("sign", () -> driver.sign("secret-message".getBytes(StandardCharsets.UTF_8), key,
        SigningAlgoSpec.EcDsaSha384$.MODULE$, CTX), T);
    String text = Files.readString(audit);
    assertTrue(text.contains("SignRequest(KeyId=" + key), "audit log: " + audit);
    assertTrue(text.contains("** Sign message text placeholder **"));
    assertTrue(text.contains(" chain="));
    assertFalse(text.contains("secret-message"));
    assertFalse(text.contains(SECRET));
  }

  @Test
  void nothingLoggedCarriesTheSecret() {
    for (RecordingLoggerFactory.Event e : logs.events()) {
      assertFalse(e.fullText().contains(SECRET), e.toString());
    }
  }
}
