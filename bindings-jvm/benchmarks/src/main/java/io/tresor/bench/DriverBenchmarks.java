package io.tresor.bench;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import com.typesafe.config.ConfigFactory;
import io.opentelemetry.context.Context;
import io.tresor.KeyType;
import io.tresor.PrivateKey;
import io.tresor.Vault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.helpers.NOPLogger;
import scala.Option;
import scala.concurrent.Await;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.concurrent.duration.Duration;

/**
 * The Canton driver's {@code sign} as Canton calls it (the factory found by ServiceLoader, a software KMS backend with
 * tresor's retry, rate-limit and health layers, a Scala future awaited), against the same signature made directly with
 * tresor's Java API ({@code PrivateKey.sign}, same spec, same message). The difference is the driver's overhead.
 *
 * <p>Signing with a key already in memory completes on the calling thread. {@code health} is a call that waits (a
 * database query of the software KMS, on its own worker): the driver's future is completed from a tresor runtime
 * thread; {@code directHealth} makes the same query through {@code Vault.health()} (the core blocks the calling thread
 * on its runtime), so the difference is the cost of the asynchronous completion.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class DriverBenchmarks {

  private static final Context CTX = Context.root();
  private static final Duration WAIT = Duration.apply(10, TimeUnit.SECONDS);

  private final byte[] msg = new byte[64];
  private Path dir;
  private KmsDriver driver;
  private String edKey;
  private String p256Key;
  private PrivateKey ed;
  private PrivateKey p256;
  private Vault vault;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("tresor-driver-bench-");
    KmsDriverFactory factory = null;
    for (KmsDriverFactory f : ServiceLoader.load(KmsDriverFactory.class)) {
      if (f.name().equals("tresor")) {
        factory = f;
      }
    }
    if (factory == null) {
      throw new IllegalStateException("no tresor driver factory on the class path");
    }
    Object config =
        factory
            .configReader()
            .from(
                ConfigFactory.parseString(
                        "type = software\npath = \"" + dir.resolve("kms.db") + "\"\npassphrase = \"bench\"\n")
                    .root())
            .toOption()
            .get();
    driver = (KmsDriver) factory.create(config, c -> NOPLogger.NOP_LOGGER, ExecutionContext.global());
    edKey = Await.result(driver.generateSigningKeyPair(SigningKeySpec.EcCurve25519$.MODULE$, Option.empty(), CTX), WAIT);
    p256Key = Await.result(driver.generateSigningKeyPair(SigningKeySpec.EcP256$.MODULE$, Option.empty(), CTX), WAIT);
    vault =
        Vault.openConfig(
            "[store]\nurl = \"sqlite://vault.db\"\n[crypto]\nprovider = \"kms\"\n[kms]\ntype = \"software\"\n"
                + "path = \"vault-kms.db\"\n",
            dir,
            new Vault.Options().create(true).kmsPassphrase("bench".toCharArray()));
    ed = PrivateKey.generate(KeyType.ED25519);
    p256 = PrivateKey.generate(KeyType.EC_P256);
    driverSignEd25519();
    driverSignP256();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    driver.close();
    vault.close();
    ed.close();
    p256.close();
  }

  private byte[] await(Future<byte[]> f) throws Exception {
    return Await.result(f, WAIT);
  }

  @Benchmark
  public byte[] driverSignEd25519() throws Exception {
    return await(driver.sign(msg, edKey, SigningAlgoSpec.Ed25519$.MODULE$, CTX));
  }

  @Benchmark
  public byte[] directSignEd25519() throws Exception {
    return ed.sign(msg);
  }

  @Benchmark
  public byte[] driverSignP256() throws Exception {
    return await(driver.sign(msg, p256Key, SigningAlgoSpec.EcDsaSha256$.MODULE$, CTX));
  }

  @Benchmark
  public byte[] directSignP256() throws Exception {
    return p256.sign(msg);
  }

  @Benchmark
  public Object driverHealth() throws Exception {
    return Await.result(driver.health(), WAIT);
  }

  @Benchmark
  public Object directHealth() throws Exception {
    return vault.health();
  }
}
