package io.tresor;

import io.tresor.internal.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The library as a whole: its version and the native library's. */
public final class Tresor {

  private Tresor() {}

  /** The version of this jar. */
  public static String version() {
    Properties p = new Properties();
    try (InputStream in = Tresor.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.getProperty("version", "unknown");
  }

  /** The version of the loaded native library (loading it if needed). */
  public static String nativeVersion() throws TresorException {
    return Native.Library_version();
  }
}
