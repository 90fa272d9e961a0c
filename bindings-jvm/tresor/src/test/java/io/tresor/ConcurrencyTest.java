package io.tresor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Eight threads through one vault, and one key, and a close racing with calls. */
class ConcurrencyTest {

  private static final int THREADS = 8;

  @Test
  void eightThreadsThroughOneVault(@TempDir Path dir) throws Exception {
    try (Vault vault = VaultTest.openEnvelope(dir)) {
      KeyInfo sig = vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), null);
      KeyInfo ed = vault.generateSigningKey(SigningKeySpec.EC_CURVE_25519, EnumSet.of(KeyUsage.PROTOCOL), null);
      KeyInfo enc = vault.generateEncryptionKey(EncryptionKeySpec.EC_P256, null);
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int id = t;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  int done = 0;
                  for (int i = 0; i < 100; i++) {
                    byte[] msg = ("thread " + id + " message " + i).getBytes(StandardCharsets.UTF_8);
                    String fp = (i % 2 == 0) ? sig.fingerprint() : ed.fingerprint();
                    byte[] s = vault.sign(fp, msg, Set.of(KeyUsage.PROTOCOL));
                    vault.verify(fp, msg, s);
                    assertArrayEquals(msg, vault.decrypt(enc.fingerprint(), vault.encrypt(enc.fingerprint(), msg)));
                    if (i % 25 == 0) {
                      vault.generateSigningKey(SigningKeySpec.EC_P384, EnumSet.of(KeyUsage.PROTOCOL), "t" + id);
                      vault.clearCache();
                      vault.listKeys();
                    }
                    done++;
                  }
                  return done;
                }));
      }
      start.countDown();
      for (Future<Integer> r : results) {
        assertEquals(100, r.get(120, TimeUnit.SECONDS));
      }
      pool.shutdown();
      assertEquals(3 + THREADS * 4, vault.listKeys().size());
    }
  }

  @Test
  void eightThreadsThroughOneKey() throws Exception {
    try (PrivateKey key = PrivateKey.generate(KeyType.EC_P256);
        PublicKey pub = key.publicKey()) {
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    byte[] msg = new byte[] {(byte) i};
                    pub.verify(msg, key.sign(msg));
                    assertArrayEquals(msg, key.decrypt(pub.encrypt(msg)));
                  }
                  return null;
                }));
      }
      for (Future<?> r : results) {
        r.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
    }
  }

  /** Closing while other threads call: each call either completes or throws IllegalStateException. */
  @Test
  void closeRacingWithCalls(@TempDir Path dir) throws Exception {
    for (int round = 0; round < 5; round++) {
      Vault vault = VaultTest.openEnvelope(java.nio.file.Files.createDirectories(dir.resolve("r" + round)));
      KeyInfo k = vault.generateSigningKey(SigningKeySpec.EC_P256, EnumSet.of(KeyUsage.PROTOCOL), null);
      PrivateKey key = PrivateKey.generate(KeyType.ED25519);
      AtomicInteger ok = new AtomicInteger();
      AtomicInteger closed = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    try {
                      vault.sign(k.fingerprint(), new byte[] {1}, Set.of(KeyUsage.PROTOCOL));
                      key.sign(new byte[] {2});
                      ok.incrementAndGet();
                    } catch (IllegalStateException e) {
                      closed.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      Thread.sleep(5 + round * 3);
      vault.close();
      key.close();
      for (Future<?> r : results) {
        r.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertEquals(THREADS * 200, ok.get() + closed.get());
      assertTrue(vault.toString().contains("closed"));
    }
  }
}
