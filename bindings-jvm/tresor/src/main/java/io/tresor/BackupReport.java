package io.tresor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What {@link Vault#backup(Path)} wrote.
 *
 * @param dir the backup directory
 * @param files the files written, in the order they were written
 * @param notes what the backup does not hold (a passphrase kept apart, keys that stay in a cloud KMS or HSM)
 */
public record BackupReport(Path dir, List<File> files, List<String> notes) {

  /**
   * One file of a backup.
   *
   * @param path where it is
   * @param what what it is: {@code key store}, {@code software KMS}, {@code software KMS key file} or the config
   *     file's description
   */
  public record File(Path path, String what) {
    public File {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(what, "what");
    }
  }

  public BackupReport {
    Objects.requireNonNull(dir, "dir");
    files = List.copyOf(files);
    notes = List.copyOf(notes);
  }

  /** From {@code [dir, n, path_1, what_1, ..., path_n, what_n, note...]}. */
  static BackupReport fromNative(String[] items) {
    int n = Integer.parseInt(items[1]);
    List<File> files = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      files.add(new File(Path.of(items[2 + 2 * i]), items[3 + 2 * i]));
    }
    List<String> notes = List.of(items).subList(2 + 2 * n, items.length);
    return new BackupReport(Path.of(items[0]), files, notes);
  }
}
