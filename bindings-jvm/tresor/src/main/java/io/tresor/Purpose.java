package io.tresor;

/** What a key is for. */
public enum Purpose implements Schemes.Named {
  SIGNING("signing"),
  ENCRYPTION("encryption");

  private final String configName;

  Purpose(String configName) {
    this.configName = configName;
  }

  @Override
  public String configName() {
    return configName;
  }

  static Purpose of(String name) {
    return Schemes.byConfigName(Purpose.class, name);
  }

  @Override
  public String toString() {
    return configName;
  }
}
