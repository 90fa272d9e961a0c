package io.tresor;

import io.tresor.internal.Native;
import io.tresor.internal.NativeHandle;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A node's key vault (the core's {@code BlockingVault}): the key store in Canton's clear, envelope or external mode,
 * its KMS with tresor's retry, rate-limit, health and audit layers, and the cache of decrypted keys.
 *
 * <p>Open one with {@link #open(Path)} (a {@code tresor.toml}), {@link #openConfig(String, Path, Options)} (config
 * text) or {@link #openCanton(Path, String, Path, Options)} (the {@code crypto} block of a Canton node). Thread-safe:
 * share one vault between threads. {@link #close()} wipes the cache and closes the store and KMS connections; a closed
 * vault throws {@link IllegalStateException}.
 *
 * <p>Every method throws the {@link TresorException} subclass of the core's error kind ({@link KeyNotFoundException},
 * {@link UsageNotAllowedException}, {@link InvalidSignatureException}, {@link KmsUnavailableException}, ...).
 */
public final class Vault implements AutoCloseable {

  /** Options for opening a vault (a builder; the defaults open existing files only). */
  public static final class Options {
    private boolean create;
    private char[] kmsPassphrase;
    private Path auditLogFile;
    private int maxRetries = -1;

    public Options() {}

    /** Create the key store and the software KMS file when missing ({@code tresor init} does this). */
    public Options create(boolean create) {
      this.create = create;
      return this;
    }

    /**
     * The software KMS passphrase, when the configuration names no key file, passphrase file or
     * {@code TRESOR_KMS_PASSPHRASE} (copied; clear your array afterwards).
     */
    public Options kmsPassphrase(char[] passphrase) {
      this.kmsPassphrase = passphrase == null ? null : passphrase.clone();
      return this;
    }

    /** Where the KMS audit log goes (default: {@code KMS_LOG_FILE_NAME}, else next to the config file). */
    public Options auditLogFile(Path file) {
      this.auditLogFile = file;
      return this;
    }

    /** Give up on a transiently failing KMS after {@code n} retries (default: Canton's policy, without limit). */
    public Options maxRetries(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxRetries must not be negative");
      }
      this.maxRetries = n;
      return this;
    }

    @Override
    public String toString() {
      return "Vault.Options[create=" + create + ", kmsPassphrase=" + (kmsPassphrase == null ? "none" : "***")
          + ", auditLogFile=" + auditLogFile + ", maxRetries=" + (maxRetries < 0 ? "default" : maxRetries) + "]";
    }
  }

  @FunctionalInterface
  private interface Opener {
    long open(boolean create, byte[] passphrase, String auditLogFile, int maxRetries) throws TresorException;
  }

  private static long open(Options options, Opener opener) throws TresorException {
    Options o = options == null ? new Options() : options;
    byte[] pass = o.kmsPassphrase == null ? null : PrivateKey.utf8(o.kmsPassphrase);
    try {
      return opener.open(o.create, pass, o.auditLogFile == null ? null : o.auditLogFile.toString(), o.maxRetries);
    } finally {
      if (pass != null) {
        Arrays.fill(pass, (byte) 0);
      }
    }
  }

  private final NativeHandle handle;
  private final String description;

  private Vault(long h) throws TresorException {
    this.handle = NativeHandle.of(this, h, Native::Vault_free, "Vault");
    this.description = "Vault[mode=" + Native.Vault_mode(h) + ", store=" + Native.Vault_storeUrl(h) + "]";
  }

  /**
   * Open the vault a tresor config file describes ({@code tresor.toml}, as {@code tresor init} writes it), running
   * Canton's start-up logic (schema and mode migrations). The {@code TRESOR_*} environment variables override single
   * settings of the file, as for the {@code tresor} command.
   */
  public static Vault open(Path configFile) throws TresorException {
    return open(configFile, null);
  }

  /** {@link #open(Path)} with options. */
  public static Vault open(Path configFile, Options options) throws TresorException {
    if (configFile == null) {
      throw new NullArgumentException("configFile must not be null");
    }
    String file = configFile.toString();
    return new Vault(open(options, (c, p, a, r) -> Native.Vault_open(file, c, p, a, r)));
  }

  /**
   * Open a vault from config text in tresor's TOML format; relative paths in it are taken from {@code baseDir}. The
   * environment is not consulted.
   */
  public static Vault openConfig(String toml, Path baseDir, Options options) throws TresorException {
    if (toml == null || baseDir == null) {
      throw new NullArgumentException("toml and baseDir must not be null");
    }
    String dir = baseDir.toString();
    return new Vault(open(options, (c, p, a, r) -> Native.Vault_openConfig(toml, dir, c, p, a, r)));
  }

  /**
   * Open the vault of a Canton node: the {@code crypto} block of {@code node} (a participant, sequencer or mediator)
   * in the Canton HOCON file gives the provider, the KMS and the private-key-store encryption; the tresor config
   * file ({@code null}: {@code TRESOR_CONFIG}, else {@code ./tresor.toml} when it exists) gives the store, the cache
   * and the role; {@code TRESOR_*} variables override single settings.
   */
  public static Vault openCanton(Path cantonConfig, String node, Path tresorConfig, Options options)
      throws TresorException {
    if (cantonConfig == null || node == null) {
      throw new NullArgumentException("cantonConfig and node must not be null");
    }
    String canton = cantonConfig.toString();
    String file = tresorConfig == null ? null : tresorConfig.toString();
    return new Vault(open(options, (c, p, a, r) -> Native.Vault_openCanton(canton, node, file, c, p, a, r)));
  }

  private static String algo(Object algorithm) {
    if (algorithm == null) {
      return null;
    }
    return algorithm instanceof SigningAlgorithm s ? s.configName() : ((EncryptionAlgorithm) algorithm).configName();
  }

  private static String name(String name) {
    return name;
  }

  private static void requireFingerprint(String fingerprint) throws NullArgumentException {
    if (fingerprint == null) {
      throw new NullArgumentException("fingerprint must not be null");
    }
  }

  // --- keys ---------------------------------------------------------------------------------------------------

  /** A new signing key with {@code usage} (fixed for its lifetime) and an optional name (≤ 300 characters). */
  public KeyInfo generateSigningKey(SigningKeySpec spec, Set<KeyUsage> usage, String name) throws TresorException {
    Objects.requireNonNull(spec, "spec");
    String u = KeyUsage.toList(usage);
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(Native.Vault_generateSigningKey(h, spec.configName(), u, name(name)));
    } finally {
      release();
    }
  }

  /** A new encryption key with an optional name. */
  public KeyInfo generateEncryptionKey(EncryptionKeySpec spec, String name) throws TresorException {
    Objects.requireNonNull(spec, "spec");
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(Native.Vault_generateEncryptionKey(h, spec.configName(), name(name)));
    } finally {
      release();
    }
  }

  /** Every key of the vault. */
  public List<KeyInfo> listKeys() throws TresorException {
    long h = handle.acquire();
    Object[] rows;
    try {
      rows = Native.Vault_listKeys(h);
    } finally {
      release();
    }
    List<KeyInfo> out = new ArrayList<>(rows.length);
    for (Object row : rows) {
      out.add(KeyInfo.fromNative((Object[]) row));
    }
    return Collections.unmodifiableList(out);
  }

  /** One key. @throws KeyNotFoundException when the vault has no such key */
  public KeyInfo keyInfo(String fingerprint) throws TresorException {
    requireFingerprint(fingerprint);
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(Native.Vault_keyInfo(h, fingerprint));
    } finally {
      release();
    }
  }

  /** A key's public key (a new object). */
  public PublicKey publicKey(String fingerprint) throws TresorException {
    requireFingerprint(fingerprint);
    long h = handle.acquire();
    try {
      return new PublicKey(Native.Vault_publicKey(h, fingerprint));
    } finally {
      release();
    }
  }

  /** Forget a key (a key held in a KMS stays there). */
  public void deleteKey(String fingerprint) throws TresorException {
    requireFingerprint(fingerprint);
    long h = handle.acquire();
    try {
      Native.Vault_deleteKey(h, fingerprint);
    } finally {
      release();
    }
  }

  // --- crypto by fingerprint ----------------------------------------------------------------------------------

  /**
   * Sign with a key of the vault, with its spec's default algorithm. {@code usage} is what the signature is for: the
   * key's usage must include one of them, as in Canton.
   *
   * @throws UsageNotAllowedException when the key's usage does not allow it
   */
  public byte[] sign(String fingerprint, byte[] message, Set<KeyUsage> usage) throws TresorException {
    return sign(fingerprint, message, usage, null);
  }

  /** {@link #sign(String, byte[], Set)} with a named algorithm ({@code null}: the default). */
  public byte[] sign(String fingerprint, byte[] message, Set<KeyUsage> usage, SigningAlgorithm algorithm)
      throws TresorException {
    requireFingerprint(fingerprint);
    String u = KeyUsage.toList(usage);
    String a = algo(algorithm);
    long h = handle.acquire();
    try {
      return Native.Vault_sign(h, fingerprint, message, u, a);
    } finally {
      release();
    }
  }

  /** Verify with a key's public key. @throws InvalidSignatureException when it does not verify */
  public void verify(String fingerprint, byte[] message, byte[] signature) throws TresorException {
    verify(fingerprint, message, signature, null);
  }

  /** {@link #verify(String, byte[], byte[])} with a named algorithm. */
  public void verify(String fingerprint, byte[] message, byte[] signature, SigningAlgorithm algorithm)
      throws TresorException {
    requireFingerprint(fingerprint);
    String a = algo(algorithm);
    long h = handle.acquire();
    try {
      Native.Vault_verify(h, fingerprint, message, signature, a);
    } finally {
      release();
    }
  }

  /** Encrypt to a key's public key, in Canton's format of its spec's default algorithm. */
  public byte[] encrypt(String fingerprint, byte[] plaintext) throws TresorException {
    return encrypt(fingerprint, plaintext, null);
  }

  /** {@link #encrypt(String, byte[])} with a named algorithm. */
  public byte[] encrypt(String fingerprint, byte[] plaintext, EncryptionAlgorithm algorithm) throws TresorException {
    requireFingerprint(fingerprint);
    String a = algo(algorithm);
    long h = handle.acquire();
    try {
      return Native.Vault_encrypt(h, fingerprint, plaintext, a);
    } finally {
      release();
    }
  }

  /** Decrypt with a key of the vault. @throws DecryptionFailedException when it does not open */
  public byte[] decrypt(String fingerprint, byte[] ciphertext) throws TresorException {
    return decrypt(fingerprint, ciphertext, null);
  }

  /** {@link #decrypt(String, byte[])} with a named algorithm. */
  public byte[] decrypt(String fingerprint, byte[] ciphertext, EncryptionAlgorithm algorithm) throws TresorException {
    requireFingerprint(fingerprint);
    String a = algo(algorithm);
    long h = handle.acquire();
    try {
      return Native.Vault_decrypt(h, fingerprint, ciphertext, a);
    } finally {
      release();
    }
  }

  // --- rotation and registration --------------------------------------------------------------------------------

  /** Canton's {@code rotate_node_key}: a new key of the same spec and usage; the old key stays until deleted. */
  public KeyInfo rotateNodeKey(String fingerprint) throws TresorException {
    requireFingerprint(fingerprint);
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(Native.Vault_rotateNodeKey(h, fingerprint));
    } finally {
      release();
    }
  }

  /**
   * Canton's {@code rotate_kms_node_key} (external mode): register a key made in the KMS beforehand as the successor
   * of a node key; a signing key keeps the old key's usage. Namespace keys are refused.
   */
  public KeyInfo rotateKmsNodeKey(String fingerprint, String newKmsKeyId, String name) throws TresorException {
    requireFingerprint(fingerprint);
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(Native.Vault_rotateKmsNodeKey(h, fingerprint, newKmsKeyId, name));
    } finally {
      release();
    }
  }

  /** The KMS wrapper key id recorded in the store (envelope mode). */
  public String wrapperKeyId() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Vault_wrapperKeyId(h);
    } finally {
      release();
    }
  }

  /**
   * Re-wrap the store data key under a new KMS key ({@code null}: a new key made in the KMS): one KMS decrypt, one
   * KMS encrypt, one row updated. Returns the new wrapper key id.
   */
  public String rotateWrapperKey(String newKmsKeyId) throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Vault_rotateWrapperKey(h, newKmsKeyId);
    } finally {
      release();
    }
  }

  /** Re-seal every key under a fresh data key in one transaction; returns how many keys were re-sealed. */
  public long rotateDataKey() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Vault_rotateDataKey(h);
    } finally {
      release();
    }
  }

  /**
   * Canton's {@code register_kms_signing_key} (external mode): store a signing key made in the KMS beforehand, with
   * {@code usage}; {@code expected} (or {@code null}) is checked against the key the KMS reports.
   */
  public KeyInfo registerKmsSigningKey(String kmsKeyId, Set<KeyUsage> usage, SigningKeySpec expected, String name)
      throws TresorException {
    String u = KeyUsage.toList(usage);
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(
          Native.Vault_registerKmsKey(
              h, kmsKeyId, Purpose.SIGNING.configName(), expected == null ? null : expected.configName(), u, name));
    } finally {
      release();
    }
  }

  /** Canton's {@code register_kms_encryption_key} (external mode). */
  public KeyInfo registerKmsEncryptionKey(String kmsKeyId, EncryptionKeySpec expected, String name)
      throws TresorException {
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(
          Native.Vault_registerKmsKey(
              h, kmsKeyId, Purpose.ENCRYPTION.configName(), expected == null ? null : expected.configName(), null, name));
    } finally {
      release();
    }
  }

  /**
   * Store a caller-held key ({@code usage} for a signing key, empty for an encryption key; clear and envelope mode).
   */
  public KeyInfo importPrivateKey(PrivateKey key, Purpose purpose, Set<KeyUsage> usage, String name)
      throws TresorException {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(purpose, "purpose");
    String u = usage == null || usage.isEmpty() ? null : KeyUsage.toList(usage);
    long kh = key.acquire();
    try {
      long h = handle.acquire();
      try {
        return KeyInfo.fromNative(Native.Vault_importPrivateKey(h, kh, purpose.configName(), u, name));
      } finally {
        release();
      }
    } finally {
      key.release();
    }
  }

  // --- sealed export ------------------------------------------------------------------------------------------

  /**
   * A private key sealed under {@code password} (Argon2id 64 MiB, 3 passes; AES-256-GCM), as {@code tresor key
   * export} writes it. Keys held in a KMS cannot be exported ({@link WrongModeException}).
   */
  public String exportSealed(String fingerprint, char[] password) throws TresorException {
    requireFingerprint(fingerprint);
    byte[] pw = PrivateKey.utf8(password);
    long h = handle.acquire();
    try {
      return Native.Vault_exportSealed(h, fingerprint, pw);
    } finally {
      Arrays.fill(pw, (byte) 0);
      release();
    }
  }

  /** Store a key from a sealed export (with a new name, or {@code null} for the exported one). */
  public KeyInfo importSealed(String export, char[] password, String name) throws TresorException {
    byte[] pw = PrivateKey.utf8(password);
    long h = handle.acquire();
    try {
      return KeyInfo.fromNative(Native.Vault_importSealed(h, export, pw, name));
    } finally {
      Arrays.fill(pw, (byte) 0);
      release();
    }
  }

  // --- the vault ------------------------------------------------------------------------------------------------

  /** The health of the vault's KMS ({@code OK} in clear mode). */
  public Health health() throws TresorException {
    long h = handle.acquire();
    try {
      return Health.fromNative(Native.Vault_health(h));
    } finally {
      release();
    }
  }

  /**
   * Write a consistent copy of the SQLite key store into {@code dir} while other threads and processes keep writing:
   * the store (taken under its write lock) with the software KMS file, the KMS key file (mode 0600) and the config
   * file, rewritten to name the copies, so that {@code dir} is a store of its own. {@code dir} is created (mode 0700)
   * or must be empty ({@link InvalidArgumentException} otherwise). A PostgreSQL store throws {@link
   * WrongModeException} (use {@code pg_dump -Fc}, or a base backup with WAL archiving).
   */
  public BackupReport backup(Path dir) throws TresorException {
    if (dir == null) {
      throw new NullArgumentException("dir must not be null");
    }
    long h = handle.acquire();
    try {
      return BackupReport.fromNative(Native.Vault_backup(h, dir.toString()));
    } finally {
      release();
    }
  }

  /** {@code clear}, {@code envelope} or {@code external}. */
  public String mode() throws TresorException {
    long h = handle.acquire();
    try {
      return Native.Vault_mode(h);
    } finally {
      release();
    }
  }

  /** Drop every decrypted key from the cache (they are zeroized). */
  public void clearCache() throws TresorException {
    long h = handle.acquire();
    try {
      Native.Vault_clearCache(h);
    } finally {
      release();
    }
  }

  /** For {@code io.tresor.hazmat}: the handle for one call. */
  long acquire() {
    return handle.acquire();
  }

  void release() {
    handle.release();
    Reference.reachabilityFence(this);
  }

  /** Wipe the cache and close the store and KMS connections (idempotent). */
  @Override
  public void close() {
    handle.closeNow();
  }

  /** The mode and the store's URL (with any password replaced by {@code ***}). */
  @Override
  public String toString() {
    return handle.isClosed() ? description.replace("Vault[", "Vault[closed, ") : description;
  }
}
