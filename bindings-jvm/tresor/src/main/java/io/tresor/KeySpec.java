package io.tresor;

/** A key spec: a {@link SigningKeySpec} or an {@link EncryptionKeySpec}. */
public sealed interface KeySpec permits SigningKeySpec, EncryptionKeySpec {

  /** Canton's config string ({@code ec-p-256}, {@code rsa-2048}, ...). */
  String configName();

  /** Signing or encryption. */
  Purpose purpose();

  /** The key type behind the spec. */
  KeyType keyType();

  /** The spec of {@code purpose} named {@code name} (config string or Canton display name). */
  static KeySpec parse(Purpose purpose, String name) throws TresorException {
    return purpose == Purpose.SIGNING ? SigningKeySpec.parse(name) : EncryptionKeySpec.parse(name);
  }
}
