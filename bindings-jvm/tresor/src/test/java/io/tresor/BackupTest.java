package io.tresor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Vault#backup(Path)}: the core's backup, with a thread writing meanwhile; refusals. */
class BackupTest {

  static String config(String storeUrl) {
    return """
        [store]
        url = "%s"

        [private-key-store.encryption]
        type = "kms"

        [kms]
        type = "software"
        path = "tresor-kms.db"
        passphrase-file = "pass.txt"
        """
        .formatted(storeUrl);
  }

  static Path storeIn(Path dir) throws Exception {
    Files.writeString(dir.resolve("pass.txt"), VaultTest.PASSPHRASE + "\n");
    Path toml = dir.resolve("tresor.toml");
    Files.writeString(toml, config("sqlite://tresor.db"));
    return toml;
  }

  @Test
  void aBackupTakenWhileAThreadWritesOpensAndEveryKeySigns(@TempDir Path dir) throws Exception {
    Path toml = storeIn(dir);
    List<BackupReport> reports = new ArrayList<>();
    List<String> before = new ArrayList<>();
    AtomicInteger written = new AtomicInteger();
    try (Vault vault = Vault.open(toml, new Vault.Options().create(true))) {
      for (SigningKeySpec spec : List.of(SigningKeySpec.EC_CURVE_25519, SigningKeySpec.EC_P256, SigningKeySpec.EC_P384)) {
        before.add(vault.generateSigningKey(spec, EnumSet.of(KeyUsage.PROTOCOL), null).fingerprint());
      }
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread writer =
          new Thread(
              () -> {
                try {
                  for (int i = 0; !done.get() || i < 3; i++) {
                    if (i % 4 == 3) {
                      vault.rotateDataKey();
                    } else {
                      vault.generateSigningKey(SigningKeySpec.EC_CURVE_25519, EnumSet.of(KeyUsage.PROTOCOL), null);
                    }
                    written.incrementAndGet();
                  }
                } catch (Throwable t) {
                  failure.set(t);
                }
              });
      writer.start();
      for (int n = 0; n < 3; n++) {
        reports.add(vault.backup(dir.resolve("backup-" + n)));
      }
      done.set(true);
      writer.join();
      assertEquals(null, failure.get());
    }
    assertTrue(written.get() >= 3);
    for (int n = 0; n < 3; n++) {
      Path copy = dir.resolve("backup-" + n);
      BackupReport r = reports.get(n);
      assertEquals(copy, r.dir());
      assertEquals(
          List.of(copy.resolve("tresor.db"), copy.resolve("tresor-kms.db"), copy.resolve("tresor.toml")),
          r.files().stream().map(BackupReport.File::path).toList());
      assertEquals("key store", r.files().get(0).what());
      assertEquals("software KMS", r.files().get(1).what());
      assertTrue(r.notes().get(0).contains("passphrase is not part of the backup"), r.notes().toString());
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)));
      // The copy is a store of its own (its config names the copies and the passphrase file where it is).
      try (Vault restored = Vault.open(copy.resolve("tresor.toml"))) {
        List<KeyInfo> keys = restored.listKeys();
        assertTrue(keys.stream().map(KeyInfo::fingerprint).toList().containsAll(before));
        for (KeyInfo k : keys) {
          byte[] sig = restored.sign(k.fingerprint(), VaultTest.MSG, Set.of(KeyUsage.PROTOCOL));
          restored.verify(k.fingerprint(), VaultTest.MSG, sig);
        }
      }
    }
  }

  @Test
  void aNonEmptyDirectoryIsRefusedAndConfigTextHasNoConfigCopy(@TempDir Path dir) throws Exception {
    Path taken = Files.createDirectory(dir.resolve("taken"));
    Files.writeString(taken.resolve("other"), "x");
    try (Vault vault = VaultTest.openEnvelope(dir)) {
      vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), null);
      InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> vault.backup(taken));
      assertTrue(e.getMessage().contains("is not empty"), e.getMessage());
      assertEquals(List.of(taken.resolve("other")), Files.list(taken).toList());
      BackupReport r = vault.backup(dir.resolve("copy"));
      assertEquals(2, r.files().size());
      assertTrue(r.notes().stream().anyMatch(n -> n.contains("not read from a file")), r.notes().toString());
      assertThrows(NullArgumentException.class, () -> vault.backup(null));
    }
  }

  /** psql from the PATH, else from the PostgreSQL server's installation (as postgres.sh installs it). */
  static String psql() throws Exception {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "psql"))) {
        return Path.of(dir, "psql").toString();
      }
    }
    Path lib = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(lib)) {
      try (var versions = Files.list(lib)) {
        for (Path v : versions.sorted(java.util.Comparator.reverseOrder()).toList()) {
          if (Files.isExecutable(v.resolve("bin/psql"))) {
            return v.resolve("bin/psql").toString();
          }
        }
      }
    }
    return "psql";
  }

  /** The PostgreSQL server of scripts/services/postgres.sh, when it runs (this test is skipped otherwise). */
  @Test
  void aPostgresqlStoreIsRefusedWithWrongMode(@TempDir Path dir) throws Exception {
    String url = System.getenv("TRESOR_TEST_POSTGRES_URL");
    Path urlFile = Path.of(System.getProperty("user.dir")).resolve("../../target/services/postgres/url").normalize();
    if ((url == null || url.isEmpty()) && Files.exists(urlFile)) {
      url = Files.readString(urlFile).strip();
    }
    assumeTrue(url != null && !url.isEmpty(), "no PostgreSQL server (scripts/services/postgres.sh start)");
    String db = "junit_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    Process p;
    try {
      p =
          new ProcessBuilder(psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", "CREATE DATABASE " + db)
              .redirectErrorStream(true)
              .start();
    } catch (java.io.IOException e) {
      assumeTrue(false, "no psql to make a database with: " + e.getMessage());
      return;
    }
    String out = new String(p.getInputStream().readAllBytes());
    assumeTrue(p.waitFor() == 0, "the PostgreSQL server does not answer: " + out);
    String fresh = url.substring(0, url.lastIndexOf('/') + 1) + db;
    Files.writeString(dir.resolve("pass.txt"), VaultTest.PASSPHRASE + "\n");
    try (Vault vault = Vault.openConfig(config(fresh), dir, new Vault.Options().create(true))) {
      WrongModeException e = assertThrows(WrongModeException.class, () -> vault.backup(dir.resolve("copy")));
      assertTrue(e.getMessage().contains("pg_dump -Fc"), e.getMessage());
    }
    assertFalse(Files.exists(dir.resolve("copy")));
  }
}
