package io.tresor.canton.api;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.Map;
import org.slf4j.Logger;
import pureconfig.ConfigReader;
import pureconfig.ConfigReader$;
import pureconfig.ConfigWriter;
import pureconfig.ConfigWriter$;
import scala.Function1;
import scala.Option;
import scala.concurrent.ExecutionContext;

/**
 * A v1 factory written in Java exactly as spec/canton-compat.md §1a describes it. It exists to prove, by compiling,
 * that the declared API has the shape a Java implementer relies on; it is not registered as a service.
 */
public final class JavaShapeFactory implements KmsDriverFactory {

  /** A config type with structural equality, as the suite's round trip needs. */
  public record Config(String region, String password) {}

  @Override
  public String name() {
    return "java-shape";
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public void com$digitalasset$canton$crypto$kms$driver$api$v1$KmsDriverFactory$_setter_$version_$eq(int v) {
    // The trait initialiser never runs for a Java class; version() answers 1 itself.
  }

  @Override
  public Option<String> buildInfo() {
    return Option.apply("test");
  }

  @Override
  @SuppressWarnings("unchecked")
  public ConfigReader<Object> configReader() {
    ConfigReader<ConfigValue> values = ConfigReader$.MODULE$.configValueConfigReader();
    Function1<ConfigValue, Object> parse =
        value -> {
          Map<String, Object> map = ((ConfigObject) value).unwrapped();
          Object region = map.get("region");
          Object password = map.get("password");
          if (region == null || password == null) {
            throw new IllegalArgumentException("region and password are required");
          }
          return new Config(region.toString(), password.toString());
        };
    return (ConfigReader<Object>) (ConfigReader<?>) values.map(parse);
  }

  @Override
  @SuppressWarnings("unchecked")
  public ConfigWriter<Object> configWriter(boolean confidential) {
    ConfigWriter<ConfigValue> values = ConfigWriter$.MODULE$.configValueConfigWriter();
    Function1<Object, ConfigValue> render =
        config -> {
          Config c = (Config) config;
          return ConfigValueFactory.fromMap(
              Map.of("region", c.region(), "password", confidential ? "****" : c.password()));
        };
    return (ConfigWriter<Object>) (ConfigWriter<?>) values.contramap(render);
  }

  @Override
  public Object create(Object config, Function1<Class<?>, Logger> loggerFactory, ExecutionContext ec) {
    return new JavaShapeDriver(loggerFactory.apply(JavaShapeDriver.class));
  }
}
