package io.tresor.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libtresor_jni} once, from the first of:
 *
 * <ol>
 *   <li>the file named by the system property {@code io.tresor.native.library};
 *   <li>the jar: {@code native/<os>-<arch>/libtresor_jni.so}, copied to a private temporary directory (mode 0700),
 *       loaded, and deleted again (the mapping stays valid);
 *   <li>{@code java.library.path} ({@code System.loadLibrary("tresor_jni")}).
 * </ol>
 *
 * Not API: used by {@link Native}'s static initialiser.
 */
public final class NativeLoader {

  /** The system property naming a library file to load instead of the jar's. */
  public static final String LIBRARY_PROPERTY = "io.tresor.native.library";

  private static final String NAME = "tresor_jni";

  private NativeLoader() {}

  /** {@code linux-x86_64}, {@code linux-aarch64}, {@code macos-aarch64}, ... */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macos" : os.startsWith("windows") ? "windows" : os;
    String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("arm64") ? "aarch64" : arch;
    return o + "-" + a;
  }

  static synchronized void load() {
    String explicit = System.getProperty(LIBRARY_PROPERTY);
    if (explicit != null && !explicit.isEmpty()) {
      System.load(Path.of(explicit).toAbsolutePath().toString());
      return;
    }
    String file = System.mapLibraryName(NAME);
    String resource = "/native/" + platform() + "/" + file;
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in != null) {
        Path dir = Files.createTempDirectory("tresor-jni-");
        Path lib = dir.resolve(file);
        try {
          Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
          System.load(lib.toAbsolutePath().toString());
        } finally {
          Files.deleteIfExists(lib);
          Files.deleteIfExists(dir);
        }
        return;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack " + resource + " from the tresor jar", e);
    }
    try {
      System.loadLibrary(NAME);
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError error =
          new UnsatisfiedLinkError(
              "tresor's native library is not in this jar for "
                  + platform()
                  + " ("
                  + resource
                  + "), not on java.library.path, and -D"
                  + LIBRARY_PROPERTY
                  + " is not set: "
                  + e.getMessage());
      error.initCause(e);
      throw error;
    }
  }
}
