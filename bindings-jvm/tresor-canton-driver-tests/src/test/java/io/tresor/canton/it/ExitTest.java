package io.tresor.canton.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The driver's runtime threads attach to the JVM as daemon threads: a JVM whose main method returns exits even when
 * a driver was never closed (Canton's factory test creates one and never closes it).
 */
class ExitTest {

  @Test
  void aJvmWithAnUnclosedDriverStillExits() throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder pb =
        new ProcessBuilder(
                java, "-Xcheck:jni", "-cp", System.getProperty("java.class.path"), UnclosedDriverMain.class.getName(),
                Backends.tempDir("exit").toString())
            .redirectErrorStream(true);
    Process p = pb.start();
    boolean exited = p.waitFor(120, TimeUnit.SECONDS);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!exited) {
      p.destroyForcibly();
    }
    assertTrue(exited, "the JVM did not exit with an unclosed driver:\n" + out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("done, not closing"), out);
    assertTrue(!out.contains("WARNING in native method") && !out.contains("FATAL ERROR in native method"), out);
  }
}
