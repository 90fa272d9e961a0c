/* The vault through the C API: clear and envelope (software KMS) modes, from a config string and from
 * a config file; generate, list, sign, verify, encrypt, decrypt, rotate (node key, wrapper key, data
 * key), export/import, delete, health; error paths and NULL arguments; 8 threads signing and
 * verifying concurrently through one vault handle. */
#include "test_util.h"

#include <pthread.h>

static const uint8_t MSG[] = "transaction 42";

static const tresor_vault *open_string(const char *config, const char *dir, bool create) {
  tresor_vault_options *o = NULL;
  EXPECT_OK(tresor_vault_options_new(&o));
  EXPECT_OK(tresor_vault_options_set_create(o, create));
  const tresor_vault *v = NULL;
  EXPECT_OK(tresor_vault_open_config(config, dir, o, &v));
  tresor_vault_options_free(o);
  REQUIRE(v != NULL);
  return v;
}

static const char *CLEAR_CONFIG = "[store]\nurl = \"sqlite://keys.db\"\n";

static int list_contains(const tresor_key_list *l, const char *fp) {
  for (size_t i = 0; i < tresor_key_list_len(l); i++) {
    if (strcmp(tresor_key_info_fingerprint(tresor_key_list_get(l, i)), fp) == 0) return 1;
  }
  return 0;
}

static void test_clear_vault(void) {
  char *dir = test_tmpdir("clear");
  const tresor_vault *v = open_string(CLEAR_CONFIG, dir, true);
  EXPECT(strcmp(tresor_vault_mode(v), "clear") == 0);

  tresor_fingerprint ns, proto, enc, rsa;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-curve-25519", "namespace", "root", &ns));
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-p-384", "protocol,sequencer-auth", NULL, &proto));
  EXPECT_OK(tresor_vault_generate_encryption_key(v, "ec-p-256", "enc", &enc));
  EXPECT_OK(tresor_vault_generate_encryption_key(v, "rsa-2048", NULL, &rsa));
  EXPECT(strlen(ns.hex) == TRESOR_FINGERPRINT_LEN);

  /* Bad arguments to generate. */
  tresor_fingerprint bad;
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-512", "protocol", NULL, &bad), TRESOR_STATUS_UNKNOWN_SCHEME);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-256", "", NULL, &bad), TRESOR_STATUS_INVALID_KEY_USAGE);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-256", "proof-of-ownership", NULL, &bad),
                TRESOR_STATUS_INVALID_KEY_USAGE);
  EXPECT_STATUS(tresor_vault_generate_encryption_key(v, "ec-p-384", NULL, &bad), TRESOR_STATUS_UNKNOWN_SCHEME);

  /* List. */
  const tresor_key_list *l = NULL;
  EXPECT_OK(tresor_vault_list_keys(v, &l));
  EXPECT(tresor_key_list_len(l) == 4);
  for (size_t i = 0; i < tresor_key_list_len(l); i++) {
    const tresor_key_info *k = tresor_key_list_get(l, i);
    REQUIRE(k != NULL);
    EXPECT(strcmp(tresor_key_info_storage(k), "clear") == 0);
    EXPECT(tresor_key_info_created_at(k) > 1700000000000LL);
    EXPECT(tresor_key_info_kms_key_id(k) == NULL);
    if (strcmp(tresor_key_info_fingerprint(k), ns.hex) == 0) {
      EXPECT(strcmp(tresor_key_info_name(k), "root") == 0);
      EXPECT(strcmp(tresor_key_info_purpose(k), "signing") == 0);
      EXPECT(strcmp(tresor_key_info_spec(k), "ec-curve-25519") == 0);
      EXPECT(strcmp(tresor_key_info_usage(k), "namespace") == 0);
    } else if (strcmp(tresor_key_info_fingerprint(k), rsa.hex) == 0) {
      EXPECT(tresor_key_info_name(k) == NULL);
      EXPECT(strcmp(tresor_key_info_purpose(k), "encryption") == 0);
      EXPECT(tresor_key_info_usage(k) == NULL);
    }
  }
  EXPECT(tresor_key_list_get(l, 4) == NULL);
  EXPECT_ERROR_MENTIONS("out of range");
  tresor_key_list_free(l);

  /* Sign and verify, through the vault and through the key's public key. */
  tresor_bytes sig = {0};
  EXPECT_OK(tresor_vault_sign(v, ns.hex, "namespace", NULL, MSG, sizeof MSG, &sig));
  EXPECT(sig.len == 64);
  EXPECT_OK(tresor_vault_verify(v, ns.hex, NULL, MSG, sizeof MSG, sig.data, sig.len));
  const tresor_public_key *pk = NULL;
  EXPECT_OK(tresor_vault_public_key(v, ns.hex, &pk));
  EXPECT_OK(tresor_public_key_verify(pk, "ed-25519", MSG, sizeof MSG, sig.data, sig.len));
  tresor_fingerprint pfp;
  EXPECT_OK(tresor_public_key_fingerprint(pk, &pfp));
  EXPECT(strcmp(pfp.hex, ns.hex) == 0);
  tresor_public_key_free(pk);
  sig.data[0] ^= 1;
  EXPECT_STATUS(tresor_vault_verify(v, ns.hex, NULL, MSG, sizeof MSG, sig.data, sig.len), TRESOR_STATUS_INVALID_SIGNATURE);
  tresor_bytes_free(&sig);
  EXPECT_OK(tresor_vault_sign(v, proto.hex, "protocol", "ec-dsa-sha-384", MSG, sizeof MSG, &sig));
  EXPECT_OK(tresor_vault_verify(v, proto.hex, "ec-dsa-sha-384", MSG, sizeof MSG, sig.data, sig.len));
  tresor_bytes_free(&sig);

  /* Usage is enforced; unknown and malformed fingerprints are named. */
  EXPECT_STATUS(tresor_vault_sign(v, ns.hex, "protocol", NULL, MSG, sizeof MSG, &sig), TRESOR_STATUS_USAGE_NOT_ALLOWED);
  EXPECT_STATUS(tresor_vault_sign(v, enc.hex, "protocol", NULL, MSG, sizeof MSG, &sig), TRESOR_STATUS_INCOMPATIBLE_KEY);
  EXPECT_STATUS(tresor_vault_sign(v, "1220ab", "protocol", NULL, MSG, sizeof MSG, &sig), TRESOR_STATUS_MALFORMED_DATA);
  EXPECT_ERROR_MENTIONS("fingerprint");
  char unknown[TRESOR_FINGERPRINT_LEN + 1];
  memcpy(unknown, ns.hex, sizeof unknown);
  unknown[10] = unknown[10] == '0' ? '1' : '0';
  EXPECT_STATUS(tresor_vault_sign(v, unknown, "namespace", NULL, MSG, sizeof MSG, &sig), TRESOR_STATUS_KEY_NOT_FOUND);
  EXPECT(sig.data == NULL);

  /* Encrypt and decrypt with both encryption keys. */
  const tresor_fingerprint *encs[] = {&enc, &rsa};
  for (int i = 0; i < 2; i++) {
    tresor_bytes ct = {0}, pt = {0};
    EXPECT_OK(tresor_vault_encrypt(v, encs[i]->hex, NULL, MSG, sizeof MSG, &ct));
    EXPECT_OK(tresor_vault_decrypt(v, encs[i]->hex, NULL, ct.data, ct.len, &pt));
    EXPECT(pt.len == sizeof MSG && memcmp(pt.data, MSG, sizeof MSG) == 0);
    tresor_bytes_free(&pt);
    ct.data[ct.len / 2] ^= 4;
    EXPECT_STATUS(tresor_vault_decrypt(v, encs[i]->hex, NULL, ct.data, ct.len, &pt), TRESOR_STATUS_DECRYPTION_FAILED);
    tresor_bytes_free(&ct);
  }
  tresor_bytes ct = {0};
  /* A signing key cannot decrypt: the one "this key cannot do that" status. */
  EXPECT_STATUS(tresor_vault_decrypt(v, ns.hex, NULL, MSG, sizeof MSG, &ct), TRESOR_STATUS_INCOMPATIBLE_KEY);

  /* Rotate a node key (as Canton does): a new key named `<old name>-rotated-<time>`; the old key stays.
   * A namespace key is not a node key: refused, as in Canton. */
  tresor_fingerprint rotated;
  EXPECT_STATUS(tresor_vault_rotate_node_key(v, ns.hex, &rotated), TRESOR_STATUS_USAGE_NOT_ALLOWED);
  EXPECT_ERROR_MENTIONS("namespace key");
  EXPECT_OK(tresor_vault_rotate_node_key(v, enc.hex, &rotated));
  EXPECT(strcmp(rotated.hex, enc.hex) != 0);
  EXPECT_OK(tresor_vault_list_keys(v, &l));
  EXPECT(tresor_key_list_len(l) == 5 && list_contains(l, rotated.hex) && list_contains(l, enc.hex));
  for (size_t i = 0; i < tresor_key_list_len(l); i++) {
    const tresor_key_info *k = tresor_key_list_get(l, i);
    if (strcmp(tresor_key_info_fingerprint(k), rotated.hex) == 0) {
      EXPECT(strncmp(tresor_key_info_name(k), "enc-rotated-", 12) == 0);
      EXPECT(tresor_key_info_usage(k) == NULL);
      EXPECT(strcmp(tresor_key_info_spec(k), "ec-p-256") == 0);
    }
  }
  tresor_key_list_free(l);

  /* Export and import into another vault; a wrong password is named. */
  tresor_bytes exported = {0};
  const uint8_t pw[] = "correct horse battery staple";
  EXPECT_OK(tresor_vault_export_sealed(v, ns.hex, pw, sizeof pw - 1, &exported));
  EXPECT(strstr((const char *)exported.data, "tresor-key-export/1") != NULL);
  char *dir2 = test_tmpdir("import");
  const tresor_vault *v2 = open_string(CLEAR_CONFIG, dir2, true);
  tresor_fingerprint imported;
  EXPECT_STATUS(tresor_vault_import_sealed(v2, exported.data, exported.len, (const uint8_t *)"nope", 4, NULL, &imported),
                TRESOR_STATUS_WRONG_PASSWORD);
  EXPECT_STATUS(tresor_vault_import_sealed(v2, (const uint8_t *)"{}", 2, pw, sizeof pw - 1, NULL, &imported),
                TRESOR_STATUS_MALFORMED_DATA);
  EXPECT_OK(tresor_vault_import_sealed(v2, exported.data, exported.len, pw, sizeof pw - 1, "imported-root", &imported));
  EXPECT(strcmp(imported.hex, ns.hex) == 0);
  EXPECT_OK(tresor_vault_sign(v2, imported.hex, "namespace", NULL, MSG, sizeof MSG, &sig));
  EXPECT_OK(tresor_vault_verify(v, ns.hex, NULL, MSG, sizeof MSG, sig.data, sig.len));
  tresor_bytes_free(&sig);
  tresor_bytes_free(&exported);
  EXPECT_STATUS(tresor_vault_import_sealed(v2, NULL, 5, pw, 3, NULL, &imported), TRESOR_STATUS_NULL_ARGUMENT);
  tresor_vault_free(v2);

  /* Delete. */
  EXPECT_OK(tresor_vault_delete_key(v, rsa.hex));
  EXPECT_STATUS(tresor_vault_delete_key(v, rsa.hex), TRESOR_STATUS_KEY_NOT_FOUND);
  EXPECT_STATUS(tresor_vault_encrypt(v, rsa.hex, NULL, MSG, sizeof MSG, &ct), TRESOR_STATUS_KEY_NOT_FOUND);

  /* Clear mode has no KMS: healthy, and no wrapper key. */
  tresor_kms_health h = 99;
  tresor_bytes detail = {0};
  EXPECT_OK(tresor_vault_health(v, &h, &detail));
  EXPECT(h == TRESOR_KMS_HEALTH_OK && detail.len == 0);
  tresor_bytes_free(&detail);
  EXPECT_OK(tresor_vault_health(v, &h, NULL));
  tresor_bytes id = {0};
  EXPECT_STATUS(tresor_vault_wrapper_key_id(v, &id), TRESOR_STATUS_WRONG_MODE);
  EXPECT_STATUS(tresor_vault_rotate_wrapper_key(v, NULL, &id), TRESOR_STATUS_WRONG_MODE);
  EXPECT_STATUS(tresor_vault_register_kms_signing_key(v, "kms-key", "ec-p-256", "protocol", NULL, &bad), TRESOR_STATUS_WRONG_MODE);
  EXPECT(id.data == NULL);

  tresor_vault_free(v);
  free(dir);
  free(dir2);
}

/* Envelope mode over the software KMS, from a config file (as `tresor init` writes it). */
static void test_envelope_vault_from_file(void) {
  char *dir = test_tmpdir("envelope");
  char path[600], keyfile[600];
  snprintf(keyfile, sizeof keyfile, "%s/kms.key", dir);
  write_key_file(keyfile);
  snprintf(path, sizeof path, "%s/tresor.toml", dir);
  FILE *f = fopen(path, "w");
  REQUIRE(f != NULL);
  fputs("[store]\nurl = \"sqlite://keys.db\"\n\n"
        "[crypto]\nprovider = \"jce\"\n\n"
        "[private-key-store.encryption]\ntype = \"kms\"\n\n"
        "[kms]\ntype = \"software\"\npath = \"kms.db\"\nkey-file = \"kms.key\"\n",
        f);
  fclose(f);

  tresor_vault_options *o = NULL;
  EXPECT_OK(tresor_vault_options_new(&o));
  const tresor_vault *v = NULL;
  EXPECT_STATUS(tresor_vault_open(path, o, &v), TRESOR_STATUS_IO); /* no KMS file or store yet */
  EXPECT_ERROR_MENTIONS("does not exist");
  EXPECT(v == NULL);
  EXPECT_OK(tresor_vault_options_set_create(o, true));
  EXPECT_OK(tresor_vault_open(path, o, &v));
  REQUIRE(v != NULL);
  EXPECT(strcmp(tresor_vault_mode(v), "envelope") == 0);

  tresor_fingerprint fp, efp;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", "node", &fp));
  EXPECT_OK(tresor_vault_generate_encryption_key(v, "ec-p-256", NULL, &efp));
  const tresor_key_list *l = NULL;
  EXPECT_OK(tresor_vault_list_keys(v, &l));
  EXPECT(strcmp(tresor_key_info_storage(tresor_key_list_get(l, 0)), "sealed") == 0);
  tresor_key_list_free(l);

  tresor_bytes id1 = {0}, id2 = {0}, sig = {0};
  EXPECT_OK(tresor_vault_wrapper_key_id(v, &id1));
  EXPECT(id1.len > 0 && strlen((const char *)id1.data) == id1.len);
  EXPECT_OK(tresor_vault_rotate_wrapper_key(v, NULL, &id2));
  EXPECT(strcmp((const char *)id1.data, (const char *)id2.data) != 0);
  uint64_t n = 0;
  EXPECT_OK(tresor_vault_rotate_data_key(v, &n));
  EXPECT(n == 2);
  EXPECT_OK(tresor_vault_rotate_data_key(v, NULL));
  EXPECT_STATUS(tresor_vault_rotate_wrapper_key(v, "", &id1), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  tresor_bytes_free(&sig);
  tresor_kms_health h = 99;
  EXPECT_OK(tresor_vault_health(v, &h, NULL));
  EXPECT(h == TRESOR_KMS_HEALTH_OK);
  tresor_vault_free(v);

  /* Reopen (the data key is unwrapped by the rotated wrapper key) and sign with the same key. */
  v = NULL;
  EXPECT_OK(tresor_vault_open(path, NULL, &v));
  REQUIRE(v != NULL);
  tresor_bytes id3 = {0};
  EXPECT_OK(tresor_vault_wrapper_key_id(v, &id3));
  EXPECT(strcmp((const char *)id2.data, (const char *)id3.data) == 0);
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  EXPECT_OK(tresor_vault_verify(v, fp.hex, NULL, MSG, sizeof MSG, sig.data, sig.len));
  tresor_bytes_free(&sig);
  tresor_bytes_free(&id1);
  tresor_bytes_free(&id2);
  tresor_bytes_free(&id3);
  tresor_vault_free(v);

  /* A backup: the copy is a store of its own (its config names the copies) in which the key signs; a
   * directory that is not empty is refused and nothing is written into it. */
  v = NULL;
  EXPECT_OK(tresor_vault_open(path, NULL, &v));
  REQUIRE(v != NULL);
  char backup_dir[600], backup_config[700];
  snprintf(backup_dir, sizeof backup_dir, "%s/backup", dir);
  tresor_bytes report = {0};
  EXPECT_OK(tresor_vault_backup(v, backup_dir, &report));
  EXPECT(report.len > 0 && strstr((const char *)report.data, "key store\t") != NULL);
  EXPECT(strstr((const char *)report.data, "software KMS key file\t") != NULL);
  tresor_bytes_free(&report);
  EXPECT_STATUS(tresor_vault_backup(v, backup_dir, &report), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("not empty");
  EXPECT_STATUS(tresor_vault_backup(v, NULL, &report), TRESOR_STATUS_NULL_ARGUMENT);
  tresor_vault_free(v);
  snprintf(backup_config, sizeof backup_config, "%s/tresor.toml", backup_dir);
  v = NULL;
  EXPECT_OK(tresor_vault_open(backup_config, NULL, &v));
  REQUIRE(v != NULL);
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  EXPECT_OK(tresor_vault_verify(v, fp.hex, NULL, MSG, sizeof MSG, sig.data, sig.len));
  tresor_bytes_free(&sig);
  tresor_vault_free(v);

  /* The same node through the crypto block of a Canton configuration: the tresor file gives the
   * store, the Canton block the KMS and the encryption (here the same ones, written in HOCON). */
  char canton[600];
  snprintf(canton, sizeof canton, "%s/canton.conf", dir);
  f = fopen(canton, "w");
  REQUIRE(f != NULL);
  fputs("canton.participants.participant1.crypto {\n"
        "  provider = jce\n"
        "  kms { type = software, path = \"kms.db\", key-file = \"kms.key\" }\n"
        "  private-key-store.encryption.type = kms\n"
        "}\n",
        f);
  fclose(f);
  v = NULL;
  EXPECT_OK(tresor_vault_open_canton(canton, "participant1", path, NULL, &v));
  REQUIRE(v != NULL);
  EXPECT(strcmp(tresor_vault_mode(v), "envelope") == 0);
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  tresor_bytes_free(&sig);
  tresor_vault_free(v);
  v = NULL;
  EXPECT_STATUS(tresor_vault_open_canton(canton, "participant9", path, NULL, &v), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("participant1");
  EXPECT(v == NULL);
  EXPECT_STATUS(tresor_vault_open_canton(NULL, "participant1", path, NULL, &v), TRESOR_STATUS_NULL_ARGUMENT);
  tresor_vault_options_free(o);
  free(dir);
}

static void test_config_errors(void) {
  char *dir = test_tmpdir("config");
  const tresor_vault *v = NULL;
  EXPECT_STATUS(tresor_vault_open_config("[store\nurl = 1", dir, NULL, &v), TRESOR_STATUS_MALFORMED_DATA);
  EXPECT_ERROR_MENTIONS("<config string>");
  EXPECT_STATUS(tresor_vault_open_config("[store]\nurl = \"sqlite://k.db\"\nflavour = 3\n", dir, NULL, &v),
                TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("flavour");
  EXPECT_STATUS(tresor_vault_open_config("[private-key-store.encryption]\ntype = \"kms\"\n[store]\nurl = \"sqlite://k.db\"\n",
                                         dir, NULL, &v),
                TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_STATUS(tresor_vault_open("/nonexistent/tresor.toml", NULL, &v), TRESOR_STATUS_IO);
  EXPECT_ERROR_MENTIONS("/nonexistent/tresor.toml");
  EXPECT(v == NULL);

  tresor_vault_options *o = NULL;
  EXPECT_OK(tresor_vault_options_new(&o));
  EXPECT_STATUS(tresor_vault_options_set_kms_passphrase(o, ""), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_OK(tresor_vault_options_set_kms_passphrase(o, "a passphrase"));
  EXPECT_OK(tresor_vault_options_set_audit_log_file(o, "audit.log"));
  EXPECT_OK(tresor_vault_options_set_max_retries(o, 3));
  /* A vault handle is not an options handle. */
  EXPECT_STATUS(tresor_vault_options_set_create((tresor_vault_options *)(void *)&v, true), TRESOR_STATUS_INVALID_ARGUMENT);
  tresor_vault_options_free(o);
  tresor_vault_options_free(NULL);
  free(dir);
}

static void test_vault_null_arguments(void) {
  char *dir = test_tmpdir("nulls");
  const tresor_vault *v = open_string(CLEAR_CONFIG, dir, true);
  tresor_fingerprint fp;
  tresor_bytes b = {0};
  const tresor_key_list *l = NULL;
  const tresor_public_key *pk = NULL;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", NULL, &fp));
  EXPECT_STATUS(tresor_vault_open(NULL, NULL, &v), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_open_config(NULL, NULL, NULL, &v), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_open_config(CLEAR_CONFIG, dir, NULL, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_options_new(NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_options_set_create(NULL, true), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_options_set_kms_driver(NULL, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_generate_signing_key(NULL, "ec-p-256", "protocol", NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, NULL, "protocol", NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-256", NULL, NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", NULL, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_generate_encryption_key(v, NULL, NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_list_keys(NULL, &l), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_list_keys(v, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_public_key(v, NULL, &pk), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_sign(v, fp.hex, "protocol", NULL, NULL, 3, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_verify(v, NULL, NULL, MSG, 1, MSG, 1), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_encrypt(v, fp.hex, NULL, MSG, 1, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_decrypt(NULL, fp.hex, NULL, MSG, 1, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_delete_key(v, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_rotate_node_key(v, fp.hex, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_wrapper_key_id(v, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_rotate_wrapper_key(NULL, NULL, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_rotate_data_key(NULL, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_register_kms_signing_key(v, NULL, "ec-p-256", "protocol", NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_register_kms_encryption_key(v, NULL, NULL, NULL, &fp), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_export_sealed(v, fp.hex, NULL, 4, &b), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_STATUS(tresor_vault_health(v, NULL, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT(tresor_vault_mode(NULL) == NULL);
  EXPECT(tresor_key_list_len(NULL) == 0);
  EXPECT(tresor_key_list_get(NULL, 0) == NULL);
  EXPECT(tresor_key_info_fingerprint(NULL) == NULL);
  EXPECT(tresor_key_info_name(NULL) == NULL);
  EXPECT(tresor_key_info_purpose(NULL) == NULL);
  EXPECT(tresor_key_info_spec(NULL) == NULL);
  EXPECT(tresor_key_info_usage(NULL) == NULL);
  EXPECT(tresor_key_info_storage(NULL) == NULL);
  EXPECT(tresor_key_info_kms_key_id(NULL) == NULL);
  EXPECT(tresor_key_info_created_at(NULL) == 0);
  /* A key list is not a vault. */
  EXPECT_OK(tresor_vault_list_keys(v, &l));
  EXPECT_STATUS(tresor_vault_rotate_data_key((const tresor_vault *)(const void *)l, NULL), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT(tresor_key_info_fingerprint((const tresor_key_info *)(const void *)l) == NULL);
  tresor_key_list_free(l);
  EXPECT(b.data == NULL && pk == NULL);
  tresor_key_list_free(NULL);
  tresor_vault_free(NULL);
  tresor_vault_free(v);
  free(dir);
}

/* 8 threads sign and verify concurrently through one vault handle (and one public key handle). */
#define THREADS 8
#define ROUNDS 150

struct worker {
  const tresor_vault *vault;
  const tresor_public_key *pk;
  const char *fp;
  const char *usage;
  int failures;
  int done;
};

static void *work(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < ROUNDS; i++) {
    uint8_t msg[32] = {0};
    snprintf((char *)msg, sizeof msg, "message %d from %p", i, (void *)w);
    tresor_bytes sig = {0};
    if (tresor_vault_sign(w->vault, w->fp, w->usage, NULL, msg, sizeof msg, &sig) != TRESOR_STATUS_OK ||
        tresor_vault_verify(w->vault, w->fp, NULL, msg, sizeof msg, sig.data, sig.len) != TRESOR_STATUS_OK ||
        tresor_public_key_verify(w->pk, NULL, msg, sizeof msg, sig.data, sig.len) != TRESOR_STATUS_OK) {
      w->failures++;
      fprintf(stderr, "thread %p round %d: %s\n", (void *)w, i, last_error());
    }
    msg[0] ^= 1;
    if (tresor_public_key_verify(w->pk, NULL, msg, sizeof msg, sig.data, sig.len) != TRESOR_STATUS_INVALID_SIGNATURE) {
      w->failures++;
    }
    tresor_bytes_free(&sig);
    w->done++;
  }
  return NULL;
}

static void test_threads(void) {
  char *dir = test_tmpdir("threads");
  /* TRESOR_C_TEST_STORE_URL points this test at another store (scripts/c-abi.sh pg: PostgreSQL). */
  const char *url = getenv("TRESOR_C_TEST_STORE_URL");
  char config[1024];
  snprintf(config, sizeof config, "[store]\nurl = \"%s\"\n", url && *url ? url : "sqlite://keys.db");
  const tresor_vault *v = open_string(config, dir, true);
  printf("threads: store %s\n", url && *url ? "from TRESOR_C_TEST_STORE_URL" : "sqlite://keys.db");
  const char *specs[] = {"ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1"};
  tresor_fingerprint fps[4];
  const tresor_public_key *pks[4];
  for (int i = 0; i < 4; i++) {
    EXPECT_OK(tresor_vault_generate_signing_key(v, specs[i], "protocol", NULL, &fps[i]));
    EXPECT_OK(tresor_vault_public_key(v, fps[i].hex, &pks[i]));
  }
  pthread_t t[THREADS];
  struct worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){v, pks[i % 4], fps[i % 4].hex, "protocol", 0, 0};
    REQUIRE(pthread_create(&t[i], NULL, work, &w[i]) == 0);
  }
  int failures = 0, done = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    failures += w[i].failures;
    done += w[i].done;
  }
  EXPECT(failures == 0);
  EXPECT(done == THREADS * ROUNDS);
  printf("threads: %d threads x %d sign+verify rounds through one vault handle, %d failures\n", THREADS, ROUNDS,
         failures);
  for (int i = 0; i < 4; i++) tresor_public_key_free(pks[i]);
  tresor_vault_free(v);
  free(dir);
}

int main(int argc, char **argv) {
  /* `test_vault N` runs only the N-th test (1-based); with TRESOR_C_TEST_STORE_URL only the threads
   * test runs, on that store. */
  int only = argc > 1 ? atoi(argv[1]) : 0;
  const char *url = getenv("TRESOR_C_TEST_STORE_URL");
  if (url && *url) only = 5;
  void (*tests[])(void) = {test_clear_vault, test_envelope_vault_from_file, test_config_errors,
                           test_vault_null_arguments, test_threads};
  for (int i = 0; i < (int)(sizeof tests / sizeof *tests); i++) {
    if (only == 0 || only == i + 1) tests[i]();
  }
  return test_summary("test_vault");
}
