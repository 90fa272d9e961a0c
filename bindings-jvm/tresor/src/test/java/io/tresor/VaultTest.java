package io.tresor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaultTest {

  static final String PASSPHRASE = "correct horse battery staple";
  static final byte[] MSG = "to be signed".getBytes(StandardCharsets.UTF_8);

  static String envelopeConfig() {
    return """
        [store]
        url = "sqlite://tresor.db"

        [private-key-store.encryption]
        type = "kms"

        [kms]
        type = "software"
        path = "tresor-kms.db"
        audit-logging = true
        """;
  }

  static Vault.Options options() {
    return new Vault.Options().create(true).kmsPassphrase(PASSPHRASE.toCharArray());
  }

  static Vault openEnvelope(Path dir) throws TresorException {
    return Vault.openConfig(envelopeConfig(), dir, options());
  }

  @Test
  void envelopeVaultDoesItsJob(@TempDir Path dir) throws Exception {
    try (Vault vault = openEnvelope(dir)) {
      assertEquals("envelope", vault.mode());
      assertTrue(vault.health().isOk());
      KeyInfo ns = vault.generateSigningKey(SigningKeySpec.EC_CURVE_25519, EnumSet.of(KeyUsage.NAMESPACE), "ns");
      KeyInfo proto = vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), null);
      KeyInfo enc = vault.generateEncryptionKey(EncryptionKeySpec.EC_P256, "enc");
      assertEquals(Storage.SEALED, ns.storage());
      assertEquals(Purpose.SIGNING, ns.purpose());
      assertEquals(Set.of(KeyUsage.NAMESPACE), ns.usage());
      assertEquals("ns", ns.name().orElseThrow());
      assertTrue(proto.name().isEmpty());
      assertEquals(Purpose.ENCRYPTION, enc.purpose());
      assertTrue(enc.usage().isEmpty());
      assertEquals(3, vault.listKeys().size());
      assertEquals(ns, vault.keyInfo(ns.fingerprint()));
      try (PublicKey pub = vault.publicKey(proto.fingerprint())) {
        assertEquals(proto.fingerprint(), pub.fingerprint());
        byte[] sig = vault.sign(proto.fingerprint(), MSG, Set.of(KeyUsage.PROTOCOL));
        pub.verify(MSG, sig);
        vault.verify(proto.fingerprint(), MSG, sig);
        vault.verify(proto.fingerprint(), MSG, sig, SigningAlgorithm.EC_DSA_SHA256);
        assertThrows(InvalidSignatureException.class, () -> vault.verify(proto.fingerprint(), new byte[1], sig));
      }
      assertThrows(UsageNotAllowedException.class, () -> vault.sign(ns.fingerprint(), MSG, Set.of(KeyUsage.PROTOCOL)));
      byte[] ct = vault.encrypt(enc.fingerprint(), MSG);
      assertArrayEquals(MSG, vault.decrypt(enc.fingerprint(), ct));
      assertArrayEquals(MSG, vault.decrypt(enc.fingerprint(), ct, EncryptionAlgorithm.ECIES_HKDF_HMAC_SHA256_AES128_CBC));
      assertThrows(KeyNotFoundException.class, () -> vault.keyInfo("1220" + "00".repeat(32)));
      assertThrows(MalformedDataException.class, () -> vault.keyInfo("nope"));

      KeyInfo rotated = vault.rotateNodeKey(proto.fingerprint());
      assertNotEquals(proto.fingerprint(), rotated.fingerprint());
      assertEquals(proto.usage(), rotated.usage());
      assertTrue(rotated.name().orElseThrow().contains("-rotated-") || rotated.name().isPresent());
      assertThrows(UsageNotAllowedException.class, () -> vault.rotateNodeKey(ns.fingerprint()));

      String wrapper = vault.wrapperKeyId();
      String newWrapper = vault.rotateWrapperKey(null);
      assertNotEquals(wrapper, newWrapper);
      assertEquals(newWrapper, vault.wrapperKeyId());
      assertEquals(4, vault.rotateDataKey());
      assertArrayEquals(MSG, vault.decrypt(enc.fingerprint(), ct));

      vault.deleteKey(rotated.fingerprint());
      assertEquals(3, vault.listKeys().size());
      vault.clearCache();
      vault.sign(ns.fingerprint(), MSG, Set.of(KeyUsage.NAMESPACE));
    }
    assertTrue(Files.exists(dir.resolve("tresor.db")));
    // Re-opened with the same passphrase, the keys are there.
    try (Vault again = Vault.openConfig(envelopeConfig(), dir, new Vault.Options().kmsPassphrase(PASSPHRASE.toCharArray()))) {
      assertEquals(3, again.listKeys().size());
    }
    assertThrows(
        WrongPasswordException.class,
        () -> Vault.openConfig(envelopeConfig(), dir, new Vault.Options().kmsPassphrase("wrong".toCharArray())));
  }

  @Test
  void sealedExportAndImport(@TempDir Path a, @TempDir Path b) throws Exception {
    char[] pw = "export password".toCharArray();
    String export;
    KeyInfo key;
    try (Vault vault = openEnvelope(a)) {
      key = vault.generateSigningKey(SigningKeySpec.EC_P384, EnumSet.of(KeyUsage.NAMESPACE, KeyUsage.PROTOCOL), "root");
      export = vault.exportSealed(key.fingerprint(), pw);
      try (PrivateKey clear = Hazmat.exportPrivateKey(vault, key.fingerprint())) {
        assertEquals(key.fingerprint(), clear.fingerprint());
      }
    }
    assertFalse(export.contains(PASSPHRASE));
    SealedKey opened = PrivateKey.openSealedExport(export, pw);
    try (PrivateKey k = opened.key()) {
      assertEquals(key.fingerprint(), opened.fingerprint());
      assertEquals(key.fingerprint(), k.fingerprint());
      assertEquals(SigningKeySpec.EC_P384, opened.spec());
      assertEquals(key.usage(), opened.usage());
      assertEquals("root", opened.name().orElseThrow());
    }
    assertThrows(WrongPasswordException.class, () -> PrivateKey.openSealedExport(export, "wrong".toCharArray()));
    try (Vault other = openEnvelope(b)) {
      KeyInfo imported = other.importSealed(export, pw, null);
      assertEquals(key.fingerprint(), imported.fingerprint());
      assertEquals(key.usage(), imported.usage());
      assertThrows(KeyAlreadyExistsException.class, () -> other.importSealed(export, pw, null));
      try (PrivateKey own = PrivateKey.generate(KeyType.RSA_2048)) {
        KeyInfo rsa = other.importPrivateKey(own, Purpose.ENCRYPTION, null, "rsa");
        assertEquals(own.fingerprint(), rsa.fingerprint());
        assertArrayEquals(MSG, other.decrypt(rsa.fingerprint(), own.encrypt(MSG)));
      }
    }
  }

  @Test
  void externalModeRegistersKmsKeys(@TempDir Path dir) throws Exception {
    String config =
        """
        [store]
        url = "sqlite://tresor.db"
        [crypto]
        provider = "kms"
        [kms]
        type = "software"
        path = "kms.db"
        """;
    try (Vault vault = Vault.openConfig(config, dir, options())) {
      assertEquals("external", vault.mode());
      KeyInfo k = vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), "p");
      assertEquals(Storage.EXTERNAL, k.storage());
      String kmsId = k.kmsKeyId().orElseThrow();
      byte[] sig = vault.sign(k.fingerprint(), MSG, Set.of(KeyUsage.PROTOCOL));
      vault.verify(k.fingerprint(), MSG, sig);
      assertThrows(WrongModeException.class, () -> vault.exportSealed(k.fingerprint(), "pw".toCharArray()));
      vault.deleteKey(k.fingerprint());
      KeyInfo again = vault.registerKmsSigningKey(kmsId, EnumSet.of(KeyUsage.PROTOCOL), SigningKeySpec.EC_P256, "again");
      assertEquals(k.fingerprint(), again.fingerprint());
      assertThrows(
          IncompatibleKeyException.class,
          () -> vault.registerKmsEncryptionKey(kmsId, null, "wrong kind"));
      KeyInfo enc = vault.generateEncryptionKey(EncryptionKeySpec.RSA_2048, null);
      String encId = enc.kmsKeyId().orElseThrow();
      vault.deleteKey(enc.fingerprint());
      assertEquals(enc.fingerprint(), vault.registerKmsEncryptionKey(encId, EncryptionKeySpec.RSA_2048, null).fingerprint());
      assertArrayEquals(MSG, vault.decrypt(enc.fingerprint(), vault.encrypt(enc.fingerprint(), MSG)));
      assertTrue(vault.health().isOk());
    }
  }

  @Test
  void opensFromAFileAndFromACantonNodeBlock(@TempDir Path dir) throws Exception {
    Path toml = dir.resolve("tresor.toml");
    Files.writeString(toml, "[store]\nurl = \"sqlite://keys.db\"\n");
    try (Vault vault = Vault.open(toml, new Vault.Options().create(true))) {
      assertEquals("clear", vault.mode());
      KeyInfo k = vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), null);
      assertEquals(Storage.CLEAR, k.storage());
      assertTrue(vault.health().isOk());
    }
    Path canton = dir.resolve("canton.conf");
    Files.writeString(
        canton,
        """
        canton.participants.participant1.crypto.provider = jce
        canton.participants.participant1.crypto.private-key-store.encryption.type = kms
        canton.participants.participant1.crypto.kms {
          type = software
          path = "canton-kms.db"
          passphrase-file = "pass.txt"
        }
        """);
    Files.writeString(dir.resolve("pass.txt"), PASSPHRASE + "\n");
    try (Vault vault = Vault.openCanton(canton, "participant1", toml, new Vault.Options().create(true))) {
      assertEquals("envelope", vault.mode());
      assertEquals(1, vault.listKeys().size());
      assertEquals(Storage.SEALED, vault.listKeys().get(0).storage());
    }
    assertThrows(NullArgumentException.class, () -> Vault.open(null));
    assertThrows(TresorException.class, () -> Vault.open(dir.resolve("missing.toml")));
  }

  @Test
  void aClosedVaultThrowsAndNeverCrashes(@TempDir Path dir) throws Exception {
    Vault vault = openEnvelope(dir);
    KeyInfo k = vault.generateSigningKey(SigningKeySpec.EC_CURVE_25519, EnumSet.of(KeyUsage.PROTOCOL), null);
    vault.close();
    vault.close();
    assertThrows(IllegalStateException.class, vault::listKeys);
    assertThrows(IllegalStateException.class, () -> vault.sign(k.fingerprint(), MSG, Set.of(KeyUsage.PROTOCOL)));
    assertThrows(IllegalStateException.class, vault::health);
    assertThrows(IllegalStateException.class, () -> vault.exportSealed(k.fingerprint(), "x".toCharArray()));
    assertTrue(vault.toString().contains("closed"));
  }

  @Test
  void toStringsShowNoSecret(@TempDir Path dir) throws Exception {
    Vault.Options o = options().auditLogFile(dir.resolve("audit.log"));
    assertFalse(o.toString().contains(PASSPHRASE));
    try (Vault vault = Vault.openConfig(envelopeConfig(), dir, o)) {
      KeyInfo k = vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), null);
      String text = vault + " " + k + " " + vault.listKeys() + " " + vault.health();
      assertFalse(text.contains(PASSPHRASE), text);
      try (PrivateKey clear = Hazmat.exportPrivateKey(vault, k.fingerprint())) {
        assertFalse(text.contains(Hex.encode(clear.toDer())));
      }
    }
    String audit = Files.readString(dir.resolve("audit.log"));
    assertTrue(audit.contains("cleartext export"), audit);
    assertFalse(audit.contains(PASSPHRASE));
  }

  static List<KeyInfo> keys(Vault v) throws TresorException {
    return v.listKeys();
  }
}
