package io.tresor.canton.conformance;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds a driver factory the way Canton's {@code DriverLoader} does: {@code ServiceLoader.load(v1.KmsDriverFactory)},
 * the factory whose {@code name()} equals the configured name; when none does, the version-less
 * {@code api.KmsDriverFactory} services are loaded only to say what was found.
 */
public final class DriverLoading {

  private DriverLoading() {}

  public static KmsDriverFactory findFactory(String name) {
    List<String> found = new ArrayList<>();
    try {
      for (KmsDriverFactory factory : ServiceLoader.load(KmsDriverFactory.class)) {
        if (name.equals(factory.name())) {
          return factory;
        }
        found.add(factory.name() + " (" + factory.getClass().getName() + ")");
      }
    } catch (ServiceConfigurationError e) {
      throw new AssertionError("ServiceLoader cannot load a v1.KmsDriverFactory: " + e.getMessage(), e);
    }
    throw new AssertionError(
        "no v1.KmsDriverFactory named '"
            + name
            + "' on the class path (META-INF/services/"
            + KmsDriverFactory.class.getName()
            + "); v1 factories found: "
            + found
            + "; version-less factories found: "
            + versionlessFactoryNames());
  }

  /** The names of the factories registered under the version-less {@code api.KmsDriverFactory} service. */
  public static List<String> versionlessFactoryNames() {
    List<String> names = new ArrayList<>();
    try {
      for (com.digitalasset.canton.crypto.kms.driver.api.KmsDriverFactory factory :
          ServiceLoader.load(com.digitalasset.canton.crypto.kms.driver.api.KmsDriverFactory.class)) {
        names.add(factory.name() + " (API v" + factory.version() + ")");
      }
    } catch (ServiceConfigurationError e) {
      names.add("<ServiceLoader error: " + e.getMessage() + ">");
    }
    return names;
  }
}
