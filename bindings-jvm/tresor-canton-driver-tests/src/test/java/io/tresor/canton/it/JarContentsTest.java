package io.tresor.canton.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tresor.canton.TresorKmsDriverFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The driver jar carries only what Canton does not ship: tresor's classes, its native library and the two service
 * files. Anything of scala-library, pureconfig, typesafe-config, slf4j, OpenTelemetry, BouncyCastle or Canton's
 * driver API in it would shadow Canton's own copies.
 */
class JarContentsTest {

  /** Prefixes of entries that may be in the jar. */
  private static final List<String> ALLOWED =
      List.of(
          "io/",
          "io/tresor/",
          "native/linux-x86_64/libtresor_jni.so",
          "native/",
          "META-INF/MANIFEST.MF",
          "META-INF/services/com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory",
          "META-INF/services/com.digitalasset.canton.crypto.kms.driver.api.KmsDriverFactory",
          "META-INF/maven/io.tresor/",
          "META-INF/");

  /** What Canton ships, by package: must never be in the jar. */
  private static final List<String> CANTON_SHIPS =
      List.of(
          "scala/", "pureconfig/", "com/typesafe/", "org/slf4j/", "io/opentelemetry/", "org/bouncycastle/",
          "com/digitalasset/", "shapeless/");

  static Path jar() {
    return Path.of(System.getProperty("tresor.driver.jar"));
  }

  @Test
  void theFactoryIsLoadedFromTheDriverJar() throws Exception {
    Path loadedFrom =
        Path.of(TresorKmsDriverFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertEquals(jar().toRealPath(), loadedFrom.toRealPath(), "the tests run against the packaged jar");
    assertTrue(
        Path.of(io.tresor.Tresor.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toRealPath()
            .equals(jar().toRealPath()),
        "tresor's Java API comes from the driver jar too");
  }

  @Test
  void theJarHoldsOnlyTresor() throws IOException {
    List<String> entries = new ArrayList<>();
    try (JarFile jf = new JarFile(jar().toFile())) {
      for (JarEntry e : Collections.list(jf.entries())) {
        entries.add(e.getName());
      }
    }
    List<String> shipped = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (String e : entries) {
      if (CANTON_SHIPS.stream().anyMatch(e::startsWith)) {
        shipped.add(e);
      } else if (ALLOWED.stream().noneMatch(e::startsWith)) {
        unknown.add(e);
      }
      if (e.startsWith("META-INF/") && !e.equals("META-INF/") && !e.startsWith("META-INF/services/")
          && !e.startsWith("META-INF/maven/") && !e.equals("META-INF/MANIFEST.MF")) {
        unknown.add(e);
      }
      if (e.startsWith("META-INF/maven/") && !e.startsWith("META-INF/maven/io.tresor/") && !e.equals("META-INF/maven/")) {
        unknown.add(e);
      }
    }
    assertTrue(shipped.isEmpty(), "the driver jar bundles what Canton ships: " + shipped);
    assertTrue(unknown.isEmpty(), "unexpected entries in the driver jar: " + unknown);
    assertTrue(entries.contains("native/linux-x86_64/libtresor_jni.so"), "the native library is in the jar");
    assertTrue(entries.contains("io/tresor/canton/TresorKmsDriverFactory.class"));
    assertTrue(entries.contains("io/tresor/internal/Native.class"));
    assertTrue(entries.contains("META-INF/services/com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory"));
    assertTrue(entries.contains("META-INF/services/com.digitalasset.canton.crypto.kms.driver.api.KmsDriverFactory"));
    for (String service :
        List.of(
            "com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverFactory",
            "com.digitalasset.canton.crypto.kms.driver.api.KmsDriverFactory")) {
      try (JarFile jf = new JarFile(jar().toFile())) {
        String text = new String(jf.getInputStream(jf.getEntry("META-INF/services/" + service)).readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(TresorKmsDriverFactory.class.getName(), text, service);
      }
    }
    System.out.println("driver jar: " + entries.size() + " entries, " + Files.size(jar()) + " bytes; nothing Canton ships");
  }
}
