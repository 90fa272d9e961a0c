package io.tresor.canton.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The tests run under {@code -Xcheck:jni} (surefire's argLine): the JVM checks every JNI call of the native library and
 * prints its findings, which bindings-jvm/scripts/test.sh turns into a failure.
 */
class CheckJniTest {

  @Test
  void theTestJvmChecksJni() {
    assertTrue(
        ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-Xcheck:jni"),
        "surefire's argLine must carry -Xcheck:jni");
  }
}
