/* The stateless part of the C API: statuses and the last error, keys (parse, fingerprint, sign,
 * verify, encrypt, decrypt), AES-128-GCM, hashes, HMAC, HKDF, random bytes; known-answer vectors;
 * NULL and garbage arguments. */
#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

static int bytes_equal_hex(const uint8_t *b, size_t n, const char *hex) {
  if (strlen(hex) != 2 * n) return 0;
  char buf[3];
  for (size_t i = 0; i < n; i++) {
    snprintf(buf, sizeof buf, "%02x", b[i]);
    if (memcmp(buf, hex + 2 * i, 2) != 0) return 0;
  }
  return 1;
}

static void test_version_and_statuses(void) {
  EXPECT(strcmp(tresor_version(), TRESOR_VERSION) == 0);
  EXPECT(strcmp(tresor_status_name(TRESOR_STATUS_OK), "ok") == 0);
  EXPECT(strcmp(tresor_status_name(TRESOR_STATUS_INVALID_SIGNATURE), "invalid_signature") == 0);
  EXPECT(strcmp(tresor_status_name(TRESOR_STATUS_KMS_UNAVAILABLE), "kms_unavailable") == 0);
  EXPECT(strcmp(tresor_status_name(TRESOR_STATUS_PANIC), "panic") == 0);
  EXPECT(strcmp(tresor_status_name(7), "unknown") == 0);
  EXPECT(strcmp(tresor_status_name(0xffffffffu), "unknown") == 0);
  EXPECT(tresor_status_is_retryable(TRESOR_STATUS_KMS_UNAVAILABLE));
  EXPECT(tresor_status_is_retryable(TRESOR_STATUS_KMS_THROTTLED));
  EXPECT(!tresor_status_is_retryable(TRESOR_STATUS_KMS_PERMISSION_DENIED));
  EXPECT(!tresor_status_is_retryable(TRESOR_STATUS_OK));
  EXPECT(TRESOR_STATUS_NULL_ARGUMENT == 101 && TRESOR_STATUS_KMS_FAILURE == 501);

  /* The last error message: set by a failure, copied on request, too-small buffers reported. */
  const tresor_public_key *pk = NULL;
  EXPECT_STATUS(tresor_public_key_from_der((const uint8_t *)"xx", 2, &pk), TRESOR_STATUS_MALFORMED_KEY);
  EXPECT(pk == NULL); /* outputs are written only on success */
  size_t n = 0;
  char tiny[4];
  EXPECT_STATUS(tresor_last_error_message(tiny, sizeof tiny, &n), TRESOR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(n > sizeof tiny);
  size_t needed = n;
  EXPECT_STATUS(tresor_last_error_message(NULL, 0, &n), TRESOR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(n == needed);
  char *buf = malloc(needed);
  EXPECT_OK(tresor_last_error_message(buf, needed, &n));
  EXPECT(n == needed - 1 && strlen(buf) == n);
  free(buf);
  EXPECT(tresor_last_error_message(NULL, 0, NULL) == TRESOR_STATUS_BUFFER_TOO_SMALL);
  /* Successful calls leave it alone. */
  uint8_t d[32];
  EXPECT_OK(tresor_sha256((const uint8_t *)"abc", 3, d, sizeof d));
  EXPECT(strlen(last_error()) > 0);
}

/* RFC 8032, test 1: the key, its Canton fingerprint (raw-key rule for Ed25519), the signature of the
 * empty message. */
static void test_ed25519_known_answer(void) {
  uint8_t spki[44];
  hex_to_bytes("302a300506032b6570032100"
               "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
               spki, sizeof spki);
  uint8_t sig[64];
  hex_to_bytes("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
               "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
               sig, sizeof sig);
  const tresor_public_key *pk = NULL;
  EXPECT_OK(tresor_public_key_from_der(spki, sizeof spki, &pk));
  REQUIRE(pk != NULL);
  tresor_fingerprint fp;
  EXPECT_OK(tresor_public_key_fingerprint(pk, &fp));
  EXPECT(strcmp(fp.hex, "1220035a791d845bbb8195615e7eccd7a57c2ec4075c2e88695f194bab4e0194a889") == 0);
  EXPECT(strlen(fp.hex) == TRESOR_FINGERPRINT_LEN);
  EXPECT(strcmp(tresor_public_key_signing_spec(pk), "ec-curve-25519") == 0);
  EXPECT(tresor_public_key_encryption_spec(pk) == NULL);
  EXPECT_OK(tresor_public_key_verify(pk, NULL, NULL, 0, sig, sizeof sig));
  EXPECT_OK(tresor_public_key_verify(pk, "ed-25519", (const uint8_t *)"", 0, sig, sizeof sig));
  sig[10] ^= 1;
  EXPECT_STATUS(tresor_public_key_verify(pk, NULL, NULL, 0, sig, sizeof sig), TRESOR_STATUS_INVALID_SIGNATURE);
  EXPECT_STATUS(tresor_public_key_verify(pk, NULL, NULL, 0, sig, 63), TRESOR_STATUS_MALFORMED_SIGNATURE);
  EXPECT_STATUS(tresor_public_key_verify(pk, "ec-dsa-sha-256", NULL, 0, sig, 64), TRESOR_STATUS_INCOMPATIBLE_KEY);
  EXPECT_STATUS(tresor_public_key_verify(pk, "ed-448", NULL, 0, sig, 64), TRESOR_STATUS_UNKNOWN_SCHEME);
  EXPECT_ERROR_MENTIONS("ed-25519"); /* the message lists what is accepted */
  /* The fingerprint is Canton's hash with purpose 12 over the raw key. */
  uint8_t h[34];
  EXPECT_OK(tresor_canton_hash(12, spki + 12, 32, h, sizeof h));
  EXPECT(bytes_equal_hex(h, sizeof h, fp.hex));
  EXPECT_STATUS(tresor_canton_hash(12, spki + 12, 32, h, 33), TRESOR_STATUS_BUFFER_TOO_SMALL);
  tresor_public_key_free(pk);
}

static void test_signing_roundtrips(void) {
  const char *specs[] = {"ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1"};
  const uint8_t msg[] = "a Canton topology transaction";
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
    const tresor_private_key *sk = NULL;
    EXPECT_OK(tresor_private_key_generate(specs[i], &sk));
    REQUIRE(sk != NULL);
    const tresor_public_key *pk = NULL;
    EXPECT_OK(tresor_private_key_public_key(sk, &pk));
    REQUIRE(pk != NULL);
    EXPECT(strcmp(tresor_public_key_signing_spec(pk), specs[i]) == 0);

    tresor_bytes sig = {0};
    EXPECT_OK(tresor_private_key_sign(sk, NULL, msg, sizeof msg, &sig));
    EXPECT(sig.data != NULL && sig.len >= 64);
    EXPECT_OK(tresor_public_key_verify(pk, NULL, msg, sizeof msg, sig.data, sig.len));
    EXPECT_STATUS(tresor_public_key_verify(pk, NULL, msg, sizeof msg - 1, sig.data, sig.len),
                  TRESOR_STATUS_INVALID_SIGNATURE);

    /* DER and PEM round trips give the same key (same fingerprint). */
    tresor_bytes der = {0}, pem = {0}, pkcs8 = {0};
    EXPECT_OK(tresor_public_key_to_der(pk, &der));
    EXPECT_OK(tresor_public_key_to_pem(pk, &pem));
    EXPECT(strncmp((const char *)pem.data, "-----BEGIN PUBLIC KEY-----", 26) == 0);
    EXPECT(strlen((const char *)pem.data) == pem.len); /* text outputs are NUL-terminated */
    const tresor_public_key *pk2 = NULL, *pk3 = NULL;
    EXPECT_OK(tresor_public_key_from_der(der.data, der.len, &pk2));
    EXPECT_OK(tresor_public_key_from_pem((const char *)pem.data, pem.len, &pk3));
    tresor_fingerprint f1, f2, f3;
    EXPECT_OK(tresor_public_key_fingerprint(pk, &f1));
    EXPECT_OK(tresor_public_key_fingerprint(pk2, &f2));
    EXPECT_OK(tresor_public_key_fingerprint(pk3, &f3));
    EXPECT(strcmp(f1.hex, f2.hex) == 0 && strcmp(f1.hex, f3.hex) == 0);
    EXPECT_OK(tresor_private_key_to_der(sk, &pkcs8));
    const tresor_private_key *sk2 = NULL;
    EXPECT_OK(tresor_private_key_from_der(pkcs8.data, pkcs8.len, &sk2));
    tresor_bytes sig2 = {0};
    EXPECT_OK(tresor_private_key_sign(sk2, NULL, msg, sizeof msg, &sig2));
    EXPECT_OK(tresor_public_key_verify(pk2, NULL, msg, sizeof msg, sig2.data, sig2.len));
    /* Only P-256 keys both sign and decrypt (ECIES); the others cannot decrypt. */
    tresor_bytes pt = {0};
    if (strcmp(specs[i], "ec-p-256") != 0) {
      EXPECT_STATUS(tresor_private_key_decrypt(sk, NULL, msg, sizeof msg, &pt), TRESOR_STATUS_INCOMPATIBLE_KEY);
    }
    EXPECT(pt.data == NULL);

    tresor_bytes_free(&sig);
    EXPECT(sig.data == NULL && sig.len == 0);
    tresor_bytes_free(&sig); /* twice is harmless */
    tresor_bytes_free(&sig2);
    tresor_bytes_free(&der);
    tresor_bytes_free(&pem);
    tresor_bytes_free(&pkcs8);
    tresor_public_key_free(pk);
    tresor_public_key_free(pk2);
    tresor_public_key_free(pk3);
    tresor_private_key_free(sk);
    tresor_private_key_free(sk2);
  }
}

static void test_encryption_roundtrips(void) {
  const char *specs[] = {"ec-p-256", "rsa-2048"};
  const char *algos[] = {"ecies-hkdf-hmac-sha-256-aes-128-cbc", "rsa-oaep-sha-256"};
  const uint8_t secret[] = "a symmetric key for a Canton view";
  for (size_t i = 0; i < 2; i++) {
    const tresor_private_key *sk = NULL;
    const tresor_public_key *pk = NULL;
    EXPECT_OK(tresor_private_key_generate(specs[i], &sk));
    REQUIRE(sk != NULL);
    EXPECT_OK(tresor_private_key_public_key(sk, &pk));
    EXPECT(strcmp(tresor_public_key_encryption_spec(pk), specs[i]) == 0);
    tresor_bytes ct = {0}, pt = {0};
    EXPECT_OK(tresor_public_key_encrypt(pk, algos[i], secret, sizeof secret, &ct));
    EXPECT_OK(tresor_private_key_decrypt(sk, algos[i], ct.data, ct.len, &pt));
    EXPECT(pt.len == sizeof secret && memcmp(pt.data, secret, sizeof secret) == 0);
    tresor_bytes_free(&pt);
    EXPECT_OK(tresor_private_key_decrypt(sk, NULL, ct.data, ct.len, &pt)); /* default algorithm */
    tresor_bytes_free(&pt);
    ct.data[ct.len - 1] ^= 0x80;
    tresor_status s = tresor_private_key_decrypt(sk, NULL, ct.data, ct.len, &pt);
    EXPECT(s == TRESOR_STATUS_DECRYPTION_FAILED);
    EXPECT(pt.data == NULL);
    EXPECT_STATUS(tresor_private_key_decrypt(sk, NULL, ct.data, 3, &pt), TRESOR_STATUS_MALFORMED_CIPHERTEXT);
    EXPECT_STATUS(tresor_public_key_encrypt(pk, algos[1 - i], secret, sizeof secret, &ct),
                  TRESOR_STATUS_INCOMPATIBLE_KEY);
    tresor_bytes_free(&ct);
    tresor_public_key_free(pk);
    tresor_private_key_free(sk);
  }
  /* Ed25519 keys cannot be encrypted to. */
  const tresor_private_key *ed = NULL;
  const tresor_public_key *edp = NULL;
  EXPECT_OK(tresor_private_key_generate("ec-curve-25519", &ed));
  EXPECT_OK(tresor_private_key_public_key(ed, &edp));
  tresor_bytes ct = {0};
  EXPECT_STATUS(tresor_public_key_encrypt(edp, NULL, secret, sizeof secret, &ct), TRESOR_STATUS_INCOMPATIBLE_KEY);
  tresor_public_key_free(edp);
  tresor_private_key_free(ed);
  const tresor_private_key *none = NULL;
  EXPECT_STATUS(tresor_private_key_generate("rsa-4096", &none), TRESOR_STATUS_UNKNOWN_SCHEME);
  EXPECT_ERROR_MENTIONS("rsa-2048");
  EXPECT(none == NULL);
}

static void test_symmetric_and_hashes(void) {
  uint8_t key[16];
  EXPECT_OK(tresor_random_bytes(key, sizeof key));
  EXPECT_OK(tresor_random_bytes(NULL, 0));
  const uint8_t pt[] = "payload";
  tresor_bytes ct = {0}, out = {0};
  EXPECT_OK(tresor_aes_gcm_encrypt(key, 16, pt, sizeof pt, &ct));
  EXPECT(ct.len == 12 + sizeof pt + 16);
  EXPECT_OK(tresor_aes_gcm_decrypt(key, 16, ct.data, ct.len, &out));
  EXPECT(out.len == sizeof pt && memcmp(out.data, pt, sizeof pt) == 0);
  tresor_bytes_free(&out);
  tresor_bytes empty = {0};
  EXPECT_OK(tresor_aes_gcm_encrypt(key, 16, NULL, 0, &empty)); /* empty plaintext */
  EXPECT_OK(tresor_aes_gcm_decrypt(key, 16, empty.data, empty.len, &out));
  EXPECT(out.len == 0 && out.data != NULL && out.data[0] == 0);
  tresor_bytes_free(&out);
  tresor_bytes_free(&empty);
  ct.data[13] ^= 1;
  EXPECT_STATUS(tresor_aes_gcm_decrypt(key, 16, ct.data, ct.len, &out), TRESOR_STATUS_DECRYPTION_FAILED);
  EXPECT_STATUS(tresor_aes_gcm_decrypt(key, 16, ct.data, 20, &out), TRESOR_STATUS_MALFORMED_CIPHERTEXT);
  EXPECT_STATUS(tresor_aes_gcm_encrypt(key, 32, pt, sizeof pt, &out), TRESOR_STATUS_MALFORMED_KEY);
  EXPECT_ERROR_MENTIONS("16 bytes");
  tresor_bytes_free(&ct);

  uint8_t d[64];
  EXPECT_OK(tresor_sha256((const uint8_t *)"abc", 3, d, 32));
  EXPECT(bytes_equal_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_STATUS(tresor_sha256((const uint8_t *)"abc", 3, d, 31), TRESOR_STATUS_BUFFER_TOO_SMALL);
  /* RFC 4231, test case 2. */
  const char *data = "what do ya want for nothing?";
  EXPECT_OK(tresor_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data), d, sizeof d));
  EXPECT(bytes_equal_hex(d, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  EXPECT_OK(tresor_hmac_sha256_verify((const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data), d, 32));
  d[0] ^= 1;
  EXPECT_STATUS(tresor_hmac_sha256_verify((const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data), d, 32),
                TRESOR_STATUS_INVALID_SIGNATURE);
  /* RFC 5869, test case 1. */
  uint8_t ikm[22], salt[13], info[10], okm[42];
  memset(ikm, 0x0b, sizeof ikm);
  for (int i = 0; i < 13; i++) salt[i] = (uint8_t)i;
  for (int i = 0; i < 10; i++) info[i] = (uint8_t)(0xf0 + i);
  EXPECT_OK(tresor_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, okm, sizeof okm));
  EXPECT(bytes_equal_hex(okm, sizeof okm,
                         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
  static uint8_t big[8161];
  EXPECT_STATUS(tresor_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, big, sizeof big),
                TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_STATUS(tresor_hkdf_sha256(NULL, 0, ikm, sizeof ikm, NULL, 0, okm, 0), TRESOR_STATUS_INVALID_ARGUMENT);
}

/* Every function given NULL where a pointer is required answers NULL_ARGUMENT and writes nothing. */
static void test_null_arguments(void) {
  const tresor_public_key *pk = NULL;
  const tresor_private_key *sk = NULL;
  tresor_bytes b = {0};
  tresor_fingerprint fp;
  uint8_t d[32];
  EXPECT_STATUS(tresor_public_key_from_der(NULL, 10, &pk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_ERROR_MENTIONS("der is NULL");
  EXPECT_STATUS(tresor_public_key_from_der((const uint8_t *)"x", 1, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_public_key_from_pem(NULL, 5, &pk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_public_key_fingerprint(NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_public_key_to_der(NULL, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_public_key_to_pem(NULL, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_public_key_verify(NULL, NULL, d, 1, d, 1), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_public_key_encrypt(NULL, NULL, d, 1, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT(tresor_public_key_signing_spec(NULL) == NULL);
  EXPECT(tresor_public_key_encryption_spec(NULL) == NULL);
  EXPECT_STATUS(tresor_private_key_generate(NULL, &sk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_generate("ec-p-256", NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_from_der(NULL, 3, &sk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_from_pem(NULL, 3, &sk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_to_der(NULL, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_public_key(NULL, &pk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_sign(NULL, NULL, d, 1, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_private_key_decrypt(NULL, NULL, d, 1, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_aes_gcm_encrypt(NULL, 16, d, 1, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_aes_gcm_decrypt(d, 16, NULL, 40, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_aes_gcm_encrypt(d, 16, d, 1, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_sha256(NULL, 1, d, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_sha256(d, 1, NULL, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_canton_hash(1, NULL, 1, d, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_hmac_sha256(NULL, 1, d, 1, d, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_hmac_sha256_verify(d, 1, d, 1, NULL, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_hkdf_sha256(NULL, 3, d, 1, NULL, 0, d, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_hkdf_sha256(NULL, 0, d, 1, NULL, 0, NULL, 32), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_random_bytes(NULL, 8), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT(pk == NULL && sk == NULL && b.data == NULL);
  /* Freeing NULL is a no-op. */
  tresor_public_key_free(NULL);
  tresor_private_key_free(NULL);
  tresor_bytes_free(NULL);
  tresor_bytes_free(&b);
}

/* Garbage that is not NULL: wrong handle types, malformed encodings, bad strings. */
static void test_garbage(void) {
  const tresor_private_key *sk = NULL;
  EXPECT_OK(tresor_private_key_generate("ec-p-256", &sk));
  const tresor_public_key *as_public = (const tresor_public_key *)(const void *)sk;
  tresor_fingerprint fp;
  EXPECT_STATUS(tresor_public_key_fingerprint(as_public, &fp), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("not a live tresor_public_key");
  tresor_public_key_free(as_public); /* refused: not a public key; the private key stays usable */
  tresor_bytes sig = {0};
  EXPECT_OK(tresor_private_key_sign(sk, NULL, (const uint8_t *)"m", 1, &sig));
  tresor_bytes_free(&sig);

  uint8_t junk[300];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 37 + 11);
  const tresor_public_key *pk = NULL;
  EXPECT_STATUS(tresor_public_key_from_der(junk, sizeof junk, &pk), TRESOR_STATUS_MALFORMED_KEY);
  EXPECT_STATUS(tresor_public_key_from_der(junk, 0, &pk), TRESOR_STATUS_MALFORMED_KEY);
  EXPECT_STATUS(tresor_public_key_from_pem((const char *)junk, sizeof junk, &pk), TRESOR_STATUS_MALFORMED_KEY);
  const tresor_private_key *sk2 = NULL;
  EXPECT_STATUS(tresor_private_key_from_der(junk, sizeof junk, &sk2), TRESOR_STATUS_MALFORMED_KEY);
  const char *sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
  EXPECT_STATUS(tresor_private_key_from_pem(sec1, strlen(sec1), &sk2), TRESOR_STATUS_MALFORMED_KEY);
  EXPECT_ERROR_MENTIONS("pkcs8");
  const char bad_utf8[] = {(char)0xff, (char)0xfe, 0};
  EXPECT_STATUS(tresor_private_key_sign(sk, bad_utf8, (const uint8_t *)"m", 1, &sig), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("UTF-8");
  EXPECT_STATUS(tresor_private_key_sign(sk, "", (const uint8_t *)"m", 1, &sig), TRESOR_STATUS_UNKNOWN_SCHEME);
  EXPECT(pk == NULL && sk2 == NULL && sig.data == NULL);
  tresor_private_key_free(sk);
}

/* AES-GCM IVs come from a userspace generator: a child process must never repeat its parent's IVs
 * (the same key and IV in two processes would expose both plaintexts and the authentication key). */
static void test_ivs_after_fork(void) {
  uint8_t key[16];
  EXPECT_OK(tresor_random_bytes(key, sizeof key));
  const uint8_t pt[16] = {0};
  tresor_bytes warm = {0};
  EXPECT_OK(tresor_aes_gcm_encrypt(key, 16, pt, sizeof pt, &warm)); /* seeds this thread's generator */
  for (int round = 0; round < 8; round++) {
    int fds[2];
    EXPECT(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    EXPECT(pid >= 0);
    if (pid == 0) {
      tresor_bytes ct = {0};
      int ok = tresor_aes_gcm_encrypt(key, 16, pt, sizeof pt, &ct) == TRESOR_STATUS_OK && ct.len >= 12;
      if (ok && write(fds[1], ct.data, 12) != 12) ok = 0;
      _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    tresor_bytes parent = {0};
    EXPECT_OK(tresor_aes_gcm_encrypt(key, 16, pt, sizeof pt, &parent));
    uint8_t child_iv[12];
    ssize_t n = read(fds[0], child_iv, sizeof child_iv);
    close(fds[0]);
    int status = 0;
    EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT(n == 12);
    EXPECT(parent.len >= 12 && memcmp(parent.data, child_iv, 12) != 0);
    EXPECT(memcmp(warm.data, child_iv, 12) != 0);
    tresor_bytes_free(&parent);
  }
  tresor_bytes_free(&warm);
}

int main(void) {
  test_version_and_statuses();
  test_ed25519_known_answer();
  test_signing_roundtrips();
  test_encryption_roundtrips();
  test_symmetric_and_hashes();
  test_ivs_after_fork();
  test_null_arguments();
  test_garbage();
  return test_summary("test_primitives");
}
