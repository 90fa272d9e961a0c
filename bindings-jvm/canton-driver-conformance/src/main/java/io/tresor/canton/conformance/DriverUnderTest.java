package io.tresor.canton.conformance;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import com.typesafe.config.ConfigValue;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a concrete conformance test tells {@link KmsDriverConformanceSuite} about the driver it checks: the factory's
 * {@code name()} (the factory is found through {@link java.util.ServiceLoader}, as Canton finds it), the raw
 * {@code config { ... }} block Canton would hand to {@code configReader().from(...)}, whether the suite may generate
 * keys, the predefined keys to use instead, and a secret string of the config that a confidential write must leave
 * out. Build one with {@link #builder(String, ConfigValue)}.
 */
public final class DriverUnderTest {

  /** Canton's wait for a new driver to report {@code Ok} (KmsDriverTest's {@code driverHealthyTimeout}). */
  public static final Duration CANTON_HEALTH_TIMEOUT = Duration.ofSeconds(60);

  private final String factoryName;
  private final ConfigValue rawConfig;
  private final boolean allowKeyGeneration;
  private final Map<SigningKeySpec, String> predefinedSigningKeys;
  private final Map<EncryptionKeySpec, String> predefinedEncryptionKeys;
  private final Optional<String> predefinedSymmetricKey;
  private final Optional<String> secret;
  private final Duration healthTimeout;
  private final Duration operationTimeout;

  private DriverUnderTest(Builder b) {
    this.factoryName = b.factoryName;
    this.rawConfig = b.rawConfig;
    this.allowKeyGeneration = b.allowKeyGeneration;
    this.predefinedSigningKeys = Map.copyOf(b.predefinedSigningKeys);
    this.predefinedEncryptionKeys = Map.copyOf(b.predefinedEncryptionKeys);
    this.predefinedSymmetricKey = b.predefinedSymmetricKey;
    this.secret = b.secret;
    this.healthTimeout = b.healthTimeout;
    this.operationTimeout = b.operationTimeout;
  }

  /**
   * @param factoryName the {@code name()} of the driver's {@code v1.KmsDriverFactory} (Canton's {@code crypto.kms.name})
   * @param rawConfig the driver's {@code config} block, e.g. {@code ConfigFactory.parseString("...").root()}
   */
  public static Builder builder(String factoryName, ConfigValue rawConfig) {
    return new Builder(factoryName, rawConfig);
  }

  public String factoryName() {
    return factoryName;
  }

  public ConfigValue rawConfig() {
    return rawConfig;
  }

  public boolean allowKeyGeneration() {
    return allowKeyGeneration;
  }

  public Map<SigningKeySpec, String> predefinedSigningKeys() {
    return predefinedSigningKeys;
  }

  public Map<EncryptionKeySpec, String> predefinedEncryptionKeys() {
    return predefinedEncryptionKeys;
  }

  public Optional<String> predefinedSymmetricKey() {
    return predefinedSymmetricKey;
  }

  public Optional<String> secret() {
    return secret;
  }

  public Duration healthTimeout() {
    return healthTimeout;
  }

  public Duration operationTimeout() {
    return operationTimeout;
  }

  @Override
  public String toString() {
    // Never the config or the secret: both may hold credentials.
    return "DriverUnderTest[factory="
        + factoryName
        + ", allowKeyGeneration="
        + allowKeyGeneration
        + ", predefinedSigningKeys="
        + predefinedSigningKeys.keySet()
        + ", predefinedEncryptionKeys="
        + predefinedEncryptionKeys.keySet()
        + ", predefinedSymmetricKey="
        + predefinedSymmetricKey.isPresent()
        + "]";
  }

  /** Builder; by default key generation is allowed, nothing is predefined and there is no secret. */
  public static final class Builder {
    private final String factoryName;
    private final ConfigValue rawConfig;
    private boolean allowKeyGeneration = true;
    private final Map<SigningKeySpec, String> predefinedSigningKeys = new LinkedHashMap<>();
    private final Map<EncryptionKeySpec, String> predefinedEncryptionKeys = new LinkedHashMap<>();
    private Optional<String> predefinedSymmetricKey = Optional.empty();
    private Optional<String> secret = Optional.empty();
    private Duration healthTimeout = CANTON_HEALTH_TIMEOUT;
    private Duration operationTimeout = Duration.ofSeconds(60);

    private Builder(String factoryName, ConfigValue rawConfig) {
      this.factoryName = Objects.requireNonNull(factoryName, "factoryName");
      this.rawConfig = Objects.requireNonNull(rawConfig, "rawConfig");
    }

    /**
     * Whether the suite may generate keys (Canton's {@code kmsDriver(allowKeyGeneration)}). When false, every
     * predefined collection must be non-empty, or every case fails.
     */
    public Builder allowKeyGeneration(boolean allow) {
      this.allowKeyGeneration = allow;
      return this;
    }

    public Builder predefinedSigningKey(SigningKeySpec spec, String keyId) {
      predefinedSigningKeys.put(Objects.requireNonNull(spec), Objects.requireNonNull(keyId));
      return this;
    }

    public Builder predefinedEncryptionKey(EncryptionKeySpec spec, String keyId) {
      predefinedEncryptionKeys.put(Objects.requireNonNull(spec), Objects.requireNonNull(keyId));
      return this;
    }

    public Builder predefinedSymmetricKey(String keyId) {
      this.predefinedSymmetricKey = Optional.of(keyId);
      return this;
    }

    /**
     * A value of the config that {@code configWriter(true)} must not write (a password, a credential). The suite
     * also checks that {@code configWriter(false)} does write it, so a mistyped secret cannot pass unnoticed, and
     * that no log event carries it.
     */
    public Builder secret(String secret) {
      if (secret.isEmpty()) {
        throw new IllegalArgumentException("an empty secret is found in every string");
      }
      this.secret = Optional.of(secret);
      return this;
    }

    /** How long the driver may take to report {@code Ok}; Canton's suite waits 60 s. */
    public Builder healthTimeout(Duration timeout) {
      this.healthTimeout = Objects.requireNonNull(timeout);
      return this;
    }

    /** How long any single driver call may take before the case fails (default 60 s). */
    public Builder operationTimeout(Duration timeout) {
      this.operationTimeout = Objects.requireNonNull(timeout);
      return this;
    }

    public DriverUnderTest build() {
      return new DriverUnderTest(this);
    }
  }
}
