package io.tresor.internal;

import io.tresor.TresorException;

/**
 * Every native method of {@code libtresor_jni}, named {@code <Type>_<verb>}. Each makes one call into tresor's core
 * and throws {@code TresorException.fromCode(code, message)} (the generated class of the error's kind) when it fails,
 * {@code PanicException} for a panic caught in the library, {@link IllegalStateException} for a freed handle.
 *
 * <p>Not API: handles are only valid while a {@link NativeHandle} says so. Use the classes of {@code io.tresor}.
 */
public final class Native {

  static {
    NativeLoader.load();
  }

  private Native() {}

  /** Load the library now (it is loaded on first use otherwise). */
  public static void init() {
    // The static initialiser did the work.
  }

  // --- library -----------------------------------------------------------------------------------------------

  public static native String Library_version() throws TresorException;

  // --- PrivateKey (the core's KeyPair) -------------------------------------------------------------------------

  public static native long PrivateKey_generate(String keyType) throws TresorException;

  public static native long PrivateKey_fromDerOrPem(byte[] encoded) throws TresorException;

  public static native void PrivateKey_free(long h);

  public static native byte[] PrivateKey_toDer(long h) throws TresorException;

  public static native String PrivateKey_toPem(long h) throws TresorException;

  public static native long PrivateKey_publicKey(long h) throws TresorException;

  public static native String PrivateKey_fingerprint(long h) throws TresorException;

  public static native String PrivateKey_keyType(long h) throws TresorException;

  public static native byte[] PrivateKey_sign(long h, String algo, byte[] msg) throws TresorException;

  public static native byte[] PrivateKey_decrypt(long h, String algo, byte[] ciphertext) throws TresorException;

  public static native void PrivateKey_verify(long h, String algo, byte[] msg, byte[] sig) throws TresorException;

  public static native byte[] PrivateKey_encrypt(long h, String algo, byte[] plaintext) throws TresorException;

  /** {@code [Long handle, fingerprint, purpose, usage|null, keySpec, name|null]}. */
  public static native Object[] PrivateKey_openSealedExport(String file, byte[] password) throws TresorException;

  // --- PublicKey (the core's PreparedPublicKey) ----------------------------------------------------------------

  public static native long PublicKey_fromDerOrPem(byte[] encoded) throws TresorException;

  public static native long PublicKey_fromDer(byte[] der) throws TresorException;

  public static native long PublicKey_fromPem(String pem) throws TresorException;

  public static native long PublicKey_fromJwk(String jwk) throws TresorException;

  public static native long PublicKey_fromRaw(String keyType, byte[] raw) throws TresorException;

  public static native void PublicKey_free(long h);

  public static native byte[] PublicKey_toDer(long h) throws TresorException;

  public static native String PublicKey_toPem(long h) throws TresorException;

  public static native String PublicKey_toJwk(long h) throws TresorException;

  public static native byte[] PublicKey_toRaw(long h) throws TresorException;

  public static native String PublicKey_fingerprint(long h) throws TresorException;

  public static native String PublicKey_keyType(long h) throws TresorException;

  public static native void PublicKey_verify(long h, String algo, byte[] msg, byte[] sig) throws TresorException;

  public static native byte[] PublicKey_encrypt(long h, String algo, byte[] plaintext) throws TresorException;

  // --- primitives ----------------------------------------------------------------------------------------------

  public static native long Aes128Gcm_new(byte[] key) throws TresorException;

  public static native long Aes128Gcm_generate() throws TresorException;

  public static native void Aes128Gcm_free(long h);

  public static native byte[] Aes128Gcm_toBytes(long h) throws TresorException;

  public static native byte[] Aes128Gcm_encrypt(long h, byte[] plaintext) throws TresorException;

  public static native byte[] Aes128Gcm_decrypt(long h, byte[] ciphertext) throws TresorException;

  public static native byte[] Hmac_sha256(byte[] key, byte[] data) throws TresorException;

  public static native void Hmac_verifySha256(byte[] key, byte[] data, byte[] tag) throws TresorException;

  public static native byte[] Hkdf_sha256(byte[] salt, byte[] ikm, byte[] info, int length) throws TresorException;

  public static native byte[] CantonHash_hash(long purpose, byte[] content) throws TresorException;

  public static native byte[] Ecdsa_derToRaw(String spec, byte[] der) throws TresorException;

  public static native byte[] Ecdsa_rawToDer(String spec, byte[] raw) throws TresorException;

  public static native String Schemes_canonical(String kind, String name) throws TresorException;

  // --- Vault (the core's BlockingVault) -----------------------------------------------------------------------

  public static native long Vault_open(
      String configFile, boolean create, byte[] kmsPassphrase, String auditLogFile, int maxRetries)
      throws TresorException;

  public static native long Vault_openConfig(
      String config, String baseDir, boolean create, byte[] kmsPassphrase, String auditLogFile, int maxRetries)
      throws TresorException;

  public static native long Vault_openCanton(
      String cantonConfig,
      String node,
      String configFile,
      boolean create,
      byte[] kmsPassphrase,
      String auditLogFile,
      int maxRetries)
      throws TresorException;

  public static native void Vault_free(long h);

  /** Each key info is {@code [fingerprint, name|null, spec, purpose, usage|null, storage, kmsKeyId|null, Long createdAtMs, byte[] publicKeyDer]}. */
  public static native Object[] Vault_generateSigningKey(long h, String spec, String usage, String name)
      throws TresorException;

  public static native Object[] Vault_generateEncryptionKey(long h, String spec, String name) throws TresorException;

  public static native Object[] Vault_listKeys(long h) throws TresorException;

  public static native Object[] Vault_keyInfo(long h, String fingerprint) throws TresorException;

  public static native long Vault_publicKey(long h, String fingerprint) throws TresorException;

  public static native byte[] Vault_sign(long h, String fingerprint, byte[] msg, String usage, String algo)
      throws TresorException;

  public static native void Vault_verify(long h, String fingerprint, byte[] msg, byte[] sig, String algo)
      throws TresorException;

  public static native byte[] Vault_encrypt(long h, String fingerprint, byte[] plaintext, String algo)
      throws TresorException;

  public static native byte[] Vault_decrypt(long h, String fingerprint, byte[] ciphertext, String algo)
      throws TresorException;

  public static native void Vault_deleteKey(long h, String fingerprint) throws TresorException;

  public static native Object[] Vault_rotateNodeKey(long h, String fingerprint) throws TresorException;

  public static native Object[] Vault_rotateKmsNodeKey(long h, String fingerprint, String newKmsKeyId, String name)
      throws TresorException;

  public static native String Vault_wrapperKeyId(long h) throws TresorException;

  public static native String Vault_rotateWrapperKey(long h, String newKmsKeyId) throws TresorException;

  public static native long Vault_rotateDataKey(long h) throws TresorException;

  public static native Object[] Vault_registerKmsKey(
      long h, String kmsKeyId, String purpose, String expectedSpec, String usage, String name)
      throws TresorException;

  public static native Object[] Vault_importPrivateKey(long h, long key, String purpose, String usage, String name)
      throws TresorException;

  public static native String Vault_exportSealed(long h, String fingerprint, byte[] password) throws TresorException;

  public static native Object[] Vault_importSealed(long h, String export, byte[] password, String name)
      throws TresorException;

  /** {@code [status, reason|null]}. */
  public static native String[] Vault_health(long h) throws TresorException;

  /** {@code [dir, n, path_1, what_1, ..., path_n, what_n, note...]}. */
  public static native String[] Vault_backup(long h, String dir) throws TresorException;

  public static native String Vault_mode(long h) throws TresorException;

  public static native String Vault_storeUrl(long h) throws TresorException;

  public static native void Vault_clearCache(long h) throws TresorException;

  public static native long Hazmat_exportPrivateKey(long vault, String fingerprint) throws TresorException;

  // --- KMS driver (the Canton driver's backend) -------------------------------------------------------------

  /** Read a KMS configuration ({@code key = value} lines) and write it back canonically; confidential masks secrets. */
  public static native String Driver_configText(String config, boolean confidential) throws TresorException;

  /** A driver with the core's layers; {@code maxRetries} < 0 keeps the core's retry policy. */
  public static native long Driver_create(String config, int maxRetries) throws TresorException;

  public static native void Driver_free(long h);

  /** {@code [provider, auditLogPath or ""]}. */
  public static native String[] Driver_describe(long h) throws TresorException;

  /** 0 signing key specs, 1 signing algorithms, 2 encryption key specs, 3 encryption algorithms. */
  public static native String[] Driver_supported(long h, int which) throws TresorException;

  public static native void Driver_health(long h, NativeCallback cb) throws TresorException;

  public static native void Driver_generateSigningKeyPair(long h, String spec, String name, NativeCallback cb)
      throws TresorException;

  public static native void Driver_generateEncryptionKeyPair(long h, String spec, String name, NativeCallback cb)
      throws TresorException;

  public static native void Driver_generateSymmetricKey(long h, String name, NativeCallback cb)
      throws TresorException;

  public static native void Driver_sign(long h, byte[] data, String keyId, String algo, NativeCallback cb)
      throws TresorException;

  public static native void Driver_decryptAsymmetric(
      long h, byte[] ciphertext, String keyId, String algo, NativeCallback cb) throws TresorException;

  public static native void Driver_encryptSymmetric(long h, byte[] data, String keyId, NativeCallback cb)
      throws TresorException;

  public static native void Driver_decryptSymmetric(long h, byte[] ciphertext, String keyId, NativeCallback cb)
      throws TresorException;

  public static native void Driver_getPublicKey(long h, String keyId, NativeCallback cb) throws TresorException;

  public static native void Driver_keyExistsAndIsActive(long h, String keyId, NativeCallback cb)
      throws TresorException;

  public static native void Driver_deleteKey(long h, String keyId, NativeCallback cb) throws TresorException;

  // --- test hooks (JUnit only) ---------------------------------------------------------------------------------

  /** The core's error table: {@code code:name:family:retryable:class} per kind. */
  public static native String[] Testing_errorTable() throws TresorException;

  /** Throw the error of {@code code} through the boundary every native method uses. */
  public static native void Testing_fail(int code) throws TresorException;

  /** Panic inside the library (caught at the boundary: a PanicException). */
  public static native void Testing_panic() throws TresorException;
}
