package io.tresor.canton;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import io.tresor.Tresor;
import io.tresor.TresorException;
import java.util.Map;
import org.slf4j.Logger;
import pureconfig.ConfigReader;
import pureconfig.ConfigReader$;
import pureconfig.ConfigWriter;
import pureconfig.ConfigWriter$;
import pureconfig.error.CannotConvert;
import pureconfig.error.FailureReason;
import scala.Function1;
import scala.Option;
import scala.concurrent.ExecutionContext;
import scala.util.Either;
import scala.util.Left;
import scala.util.Right;

/**
 * tresor's Canton KMS driver factory, API v1, found by Canton's {@code ServiceLoader} under the name {@code tresor}:
 *
 * <pre>
 * crypto.provider = kms
 * crypto.kms {
 *   type = driver
 *   name = "tresor"
 *   config = { type = aws, region = us-east-1, audit-logging = true }
 * }
 * </pre>
 *
 * The {@code config} block is read by tresor's core ({@link TresorDriverConfig}); {@code create} builds the backend
 * with the core's layers ({@link TresorKmsDriver}).
 */
public final class TresorKmsDriverFactory implements KmsDriverFactory {

  /** The factory's name: Canton's {@code crypto.kms.name}. */
  public static final String NAME = "tresor";

  public TresorKmsDriverFactory() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public void com$digitalasset$canton$crypto$kms$driver$api$v1$KmsDriverFactory$_setter_$version_$eq(int v) {
    // The Scala trait's `val version = 1` leaves this setter to implement; Java never runs the trait
    // initialiser, and version() answers 1 itself.
  }

  @Override
  public Option<String> buildInfo() {
    return Option.apply("tresor " + Tresor.version());
  }

  @Override
  @SuppressWarnings("unchecked")
  public ConfigReader<Object> configReader() {
    ConfigReader<ConfigValue> values = ConfigReader$.MODULE$.configValueConfigReader();
    Function1<ConfigValue, Either<FailureReason, Object>> read =
        value -> {
          try {
            return new Right<>(TresorDriverConfig.read(value));
          } catch (TresorException | RuntimeException e) {
            // Never the value itself: it may hold a secret.
            return new Left<>(CannotConvert.apply("<the tresor driver's config block>", "tresor driver config",
                e.getMessage()));
          }
        };
    return (ConfigReader<Object>) (ConfigReader<?>) values.emap(read);
  }

  @Override
  @SuppressWarnings("unchecked")
  public ConfigWriter<Object> configWriter(boolean confidential) {
    ConfigWriter<ConfigValue> values = ConfigWriter$.MODULE$.configValueConfigWriter();
    Function1<Object, ConfigValue> write =
        config -> {
          TresorDriverConfig c = (TresorDriverConfig) config;
          try {
            return c.write(confidential);
          } catch (TresorException e) {
            if (confidential) {
              // Fail closed: a config the core cannot read is written without any value but its type.
              return ConfigValueFactory.fromMap(Map.of("type", c.type()));
            }
            throw new IllegalStateException("cannot write the tresor driver's config: " + e.getMessage(), e);
          }
        };
    return (ConfigWriter<Object>) (ConfigWriter<?>) values.contramap(write);
  }

  /**
   * A driver for {@code config}: the backend is built and checked now (a wrong passphrase, a missing HSM module, an
   * unreachable endpoint fail here). The execution context is not used: tresor's calls complete on its own runtime.
   */
  @Override
  public Object create(Object config, Function1<Class<?>, Logger> loggerFactory, ExecutionContext executionContext) {
    Logger logger = loggerFactory.apply(TresorKmsDriver.class);
    try {
      return new TresorKmsDriver((TresorDriverConfig) config, logger);
    } catch (TresorException e) {
      logger.error("tresor KMS driver: cannot create the {} backend: {}", ((TresorDriverConfig) config).type(), e.getMessage());
      throw new KmsDriverException(e, e.isRetryable());
    }
  }
}
