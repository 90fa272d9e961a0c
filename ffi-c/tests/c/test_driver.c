#include "test_util.h"

/*
 * test_driver.c: a KMS driver written in C ("c-soft-kms"), plugged into libtresor through the
 * tresor_kms_driver_v1 table, and the vault exercised over it:
 *
 *   1. envelope mode: the driver holds the wrapper key (generate/encrypt/decrypt_symmetric);
 *   2. external mode: the driver holds the private keys (generate, sign, decrypt, register, health,
 *      delete);
 *   3. error paths: retried and non-retried driver statuses, the driver's error message, unknown
 *      statuses, a callback that returns OK without a result, missing optional functions;
 *   4. invalid tables and config/driver conflicts, and who owns (releases) `ctx` when;
 *   5. several threads signing through the driver at once.
 *
 * The driver keeps its keys in a table shared between driver instances (as a real KMS outlives the
 * process), so a store written through one instance opens through the next. Every callback counts
 * its calls, and each operation can be told to fail the next N calls with a given status (fault
 * injection). The crypto is done with libtresor's own stateless functions.
 */

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------------ */
/* The driver                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

/* What the driver declares it supports (tresor parses these lists; the space checks that items are
 * trimmed). */
#define DRIVER_NAME "c-soft-kms"
#define SIGNING_SPECS "ec-curve-25519, ec-p-256,ec-p-384,ec-secp256k1"
#define SIGNING_ALGOS "ed-25519,ec-dsa-sha-256,ec-dsa-sha-384"
#define ENCRYPTION_SPECS "ec-p-256,rsa-2048"
#define ENCRYPTION_ALGOS "ecies-hkdf-hmac-sha-256-aes-128-cbc,rsa-oaep-sha-256"

#define MAX_KEYS 64
#define MAX_INSTANCES 64
#define KEY_ID_LEN 32

/* The operations of the table, for the call counters and the fault knobs. */
typedef enum {
  OP_HEALTH,
  OP_GEN_SIGNING,
  OP_GEN_ENCRYPTION,
  OP_GEN_SYMMETRIC,
  OP_SIGN,
  OP_DECRYPT_ASYMMETRIC,
  OP_ENCRYPT_SYMMETRIC,
  OP_DECRYPT_SYMMETRIC,
  OP_GET_PUBLIC_KEY,
  OP_EXISTS,
  OP_DELETE,
  OP_COUNT
} op;

typedef enum { KIND_SIGNING = 1, KIND_ENCRYPTION = 2, KIND_SYMMETRIC = 3 } key_kind;

typedef struct {
  char id[KEY_ID_LEN];
  key_kind kind;
  const tresor_private_key *priv; /* KIND_SIGNING / KIND_ENCRYPTION */
  uint8_t sym[16];                /* KIND_SYMMETRIC: an AES-128-GCM key */
  bool enabled;
  bool used;
} soft_key;

/* The keys "in the KMS": shared by driver instances (reference-counted), with its own lock. */
typedef struct {
  pthread_mutex_t mu;
  int refs;
  unsigned next_id;
  soft_key keys[MAX_KEYS];
} key_table;

/* Make the next `remaining` calls (-1 = every call) of one operation return `status` (with
 * `message`, if any, set as the error message). `status` OK means "return OK without setting any
 * result", a driver bug tresor must survive. */
typedef struct {
  int remaining;
  uint32_t status;
  char message[160];
} fault;

/* One driver instance: the `ctx` tresor passes to every callback. */
typedef struct {
  int instance; /* index into g_release_calls */
  key_table *table;
  pthread_mutex_t mu; /* guards everything below */
  unsigned calls[OP_COUNT];
  fault faults[OP_COUNT];
  tresor_kms_health health_state;
  char health_detail[160];
  char last_algorithm[64]; /* of the last sign / decrypt_asymmetric */
  char last_key_id[KEY_ID_LEN];
  char last_name[64]; /* of the last generate_* ("" = NULL) */
} soft_kms;

/* How many times `release` ran for each instance (checked after the instance is gone). */
static atomic_int g_release_calls[MAX_INSTANCES];
static atomic_int g_next_instance;

static key_table *key_table_new(void) {
  key_table *t = calloc(1, sizeof *t);
  REQUIRE(t != NULL);
  pthread_mutex_init(&t->mu, NULL);
  t->refs = 1;
  t->next_id = 1;
  return t;
}

static void key_table_unref(key_table *t) {
  pthread_mutex_lock(&t->mu);
  int left = --t->refs;
  pthread_mutex_unlock(&t->mu);
  if (left > 0) return;
  for (size_t i = 0; i < MAX_KEYS; i++) {
    tresor_private_key_free(t->keys[i].priv);
    memset(t->keys[i].sym, 0, sizeof t->keys[i].sym);
  }
  pthread_mutex_destroy(&t->mu);
  free(t);
}

/* The key `id`, or NULL. The caller holds t->mu. */
static soft_key *key_find(key_table *t, const char *id) {
  for (size_t i = 0; i < MAX_KEYS; i++) {
    if (t->keys[i].used && strcmp(t->keys[i].id, id) == 0) return &t->keys[i];
  }
  return NULL;
}

/* Add a key; writes its id to `id_out`. `priv` is taken over. Returns false when the table is full.
 * The caller holds t->mu. */
static bool key_add_locked(key_table *t, key_kind kind, const tresor_private_key *priv,
                           char id_out[KEY_ID_LEN]) {
  for (size_t i = 0; i < MAX_KEYS; i++) {
    soft_key *k = &t->keys[i];
    if (k->used) continue;
    memset(k, 0, sizeof *k);
    snprintf(k->id, sizeof k->id, "c-key-%u", t->next_id++);
    k->kind = kind;
    k->priv = priv;
    k->enabled = true;
    k->used = true;
    if (kind == KIND_SYMMETRIC && tresor_random_bytes(k->sym, sizeof k->sym) != TRESOR_STATUS_OK) {
      k->used = false;
      return false;
    }
    memcpy(id_out, k->id, KEY_ID_LEN);
    return true;
  }
  return false;
}

/* Test-side helpers: create a key "out of band" (as an operator would), enable/disable one. */
static void key_table_add(key_table *t, key_kind kind, const char *spec, char id_out[KEY_ID_LEN]) {
  const tresor_private_key *priv = NULL;
  if (kind != KIND_SYMMETRIC) REQUIRE(tresor_private_key_generate(spec, &priv) == TRESOR_STATUS_OK);
  pthread_mutex_lock(&t->mu);
  bool ok = key_add_locked(t, kind, priv, id_out);
  pthread_mutex_unlock(&t->mu);
  REQUIRE(ok);
}

static void key_table_set_enabled(key_table *t, const char *id, bool enabled) {
  pthread_mutex_lock(&t->mu);
  soft_key *k = key_find(t, id);
  if (k) k->enabled = enabled;
  pthread_mutex_unlock(&t->mu);
  REQUIRE(k != NULL);
}

static bool key_table_has(key_table *t, const char *id) {
  pthread_mutex_lock(&t->mu);
  bool has = key_find(t, id) != NULL;
  pthread_mutex_unlock(&t->mu);
  return has;
}

/* The public key of an asymmetric key of the table (a new handle). */
static const tresor_public_key *key_table_public_key(key_table *t, const char *id) {
  const tresor_public_key *pub = NULL;
  pthread_mutex_lock(&t->mu);
  soft_key *k = key_find(t, id);
  tresor_status st = k && k->priv ? tresor_private_key_public_key(k->priv, &pub) : TRESOR_STATUS_KEY_NOT_FOUND;
  pthread_mutex_unlock(&t->mu);
  REQUIRE(st == TRESOR_STATUS_OK);
  return pub;
}

static soft_kms *soft_kms_new(key_table *t) {
  soft_kms *d = calloc(1, sizeof *d);
  REQUIRE(d != NULL);
  d->instance = atomic_fetch_add(&g_next_instance, 1);
  REQUIRE(d->instance < MAX_INSTANCES);
  pthread_mutex_lock(&t->mu);
  t->refs++;
  pthread_mutex_unlock(&t->mu);
  d->table = t;
  pthread_mutex_init(&d->mu, NULL);
  d->health_state = TRESOR_KMS_HEALTH_OK;
  return d;
}

/* Free an instance that tresor does not own (its table was refused, or it had no `release`). */
static void soft_kms_destroy(soft_kms *d) {
  key_table_unref(d->table);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

/* Fault knob and counters, used by the tests (thread-safe: the callbacks run on tresor's workers). */
static void set_fault(soft_kms *d, op o, uint32_t status, int times, const char *message) {
  pthread_mutex_lock(&d->mu);
  d->faults[o].remaining = times;
  d->faults[o].status = status;
  snprintf(d->faults[o].message, sizeof d->faults[o].message, "%s", message ? message : "");
  pthread_mutex_unlock(&d->mu);
}

static unsigned calls(soft_kms *d, op o) {
  pthread_mutex_lock(&d->mu);
  unsigned n = d->calls[o];
  pthread_mutex_unlock(&d->mu);
  return n;
}

static unsigned total_calls(soft_kms *d) {
  unsigned n = 0;
  for (int o = 0; o < OP_COUNT; o++) n += calls(d, (op)o);
  return n;
}

static void reset_calls(soft_kms *d) {
  pthread_mutex_lock(&d->mu);
  memset(d->calls, 0, sizeof d->calls);
  pthread_mutex_unlock(&d->mu);
}

static void set_health(soft_kms *d, tresor_kms_health state, const char *detail) {
  pthread_mutex_lock(&d->mu);
  d->health_state = state;
  snprintf(d->health_detail, sizeof d->health_detail, "%s", detail ? detail : "");
  pthread_mutex_unlock(&d->mu);
}

/* Copy a string field of the driver under its lock. */
static void get_field(soft_kms *d, const char *field, char *out, size_t n) {
  pthread_mutex_lock(&d->mu);
  snprintf(out, n, "%s", field);
  pthread_mutex_unlock(&d->mu);
}

/* Describe a failure to tresor and return its status. */
static uint32_t fail(tresor_kms_result *r, uint32_t status, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tresor_kms_result_set_error_message(r, msg);
  return status;
}

/* Every callback starts here: count the call and apply an armed fault. Returns true (with the status
 * to return in *status) when the call is to fail. */
static bool enter(soft_kms *d, op o, tresor_kms_result *r, uint32_t *status) {
  char message[160] = "";
  bool faulted = false;
  pthread_mutex_lock(&d->mu);
  d->calls[o]++;
  fault *f = &d->faults[o];
  if (f->remaining != 0) {
    if (f->remaining > 0) f->remaining--;
    faulted = true;
    *status = f->status;
    memcpy(message, f->message, sizeof message);
  }
  pthread_mutex_unlock(&d->mu);
  if (faulted && message[0] && *status != TRESOR_STATUS_OK) tresor_kms_result_set_error_message(r, message);
  return faulted;
}

static bool in_list(const char *list, const char *item) {
  size_t n = strlen(item);
  for (const char *p = list; (p = strstr(p, item)) != NULL; p += n) {
    bool start = p == list || p[-1] == ',' || p[-1] == ' ';
    bool end = p[n] == '\0' || p[n] == ',';
    if (start && end) return true;
  }
  return false;
}

/* The asymmetric key `id` of `kind`, locked (t->mu held on success); otherwise the KMS status. */
static uint32_t lock_usable_key(soft_kms *d, const char *id, key_kind kind, tresor_kms_result *r,
                                soft_key **out) {
  key_table *t = d->table;
  pthread_mutex_lock(&t->mu);
  soft_key *k = key_find(t, id);
  uint32_t st = TRESOR_STATUS_OK;
  if (!k) {
    st = fail(r, TRESOR_STATUS_KMS_KEY_NOT_FOUND, "c-soft-kms has no key '%s'", id);
  } else if (k->kind != kind) {
    st = fail(r, TRESOR_STATUS_KMS_FAILURE, "c-soft-kms key '%s' is not a %s key", id,
              kind == KIND_SIGNING ? "signing" : kind == KIND_ENCRYPTION ? "encryption" : "symmetric");
  } else if (!k->enabled) {
    st = fail(r, TRESOR_STATUS_KMS_KEY_DISABLED, "c-soft-kms key '%s' is disabled", id);
  }
  if (st != TRESOR_STATUS_OK) {
    pthread_mutex_unlock(&t->mu);
    return st;
  }
  *out = k;
  return TRESOR_STATUS_OK;
}

static uint32_t drv_health(void *ctx, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  if (enter(d, OP_HEALTH, r, &st)) return st;
  char detail[160];
  pthread_mutex_lock(&d->mu);
  tresor_kms_health state = d->health_state;
  memcpy(detail, d->health_detail, sizeof detail);
  pthread_mutex_unlock(&d->mu);
  return tresor_kms_result_set_health(r, state, detail[0] ? detail : NULL);
}

static uint32_t generate_pair(soft_kms *d, op o, key_kind kind, const char *specs, const char *spec,
                              const char *name, tresor_kms_result *r) {
  uint32_t st;
  if (enter(d, o, r, &st)) return st;
  get_field(d, name ? name : "", d->last_name, sizeof d->last_name);
  if (!in_list(specs, spec)) return fail(r, TRESOR_STATUS_KMS_FAILURE, "c-soft-kms does not make %s keys", spec);
  const tresor_private_key *priv = NULL;
  st = tresor_private_key_generate(spec, &priv);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "key generation failed (%s)", tresor_status_name(st));
  char id[KEY_ID_LEN];
  pthread_mutex_lock(&d->table->mu);
  bool ok = key_add_locked(d->table, kind, priv, id);
  pthread_mutex_unlock(&d->table->mu);
  if (!ok) {
    tresor_private_key_free(priv);
    return fail(r, TRESOR_STATUS_KMS_FAILURE, "c-soft-kms is full");
  }
  return tresor_kms_result_set_key_id(r, id);
}

static uint32_t drv_generate_signing_key(void *ctx, const char *spec, const char *name,
                                         tresor_kms_result *r) {
  return generate_pair(ctx, OP_GEN_SIGNING, KIND_SIGNING, SIGNING_SPECS, spec, name, r);
}

static uint32_t drv_generate_encryption_key(void *ctx, const char *spec, const char *name,
                                            tresor_kms_result *r) {
  return generate_pair(ctx, OP_GEN_ENCRYPTION, KIND_ENCRYPTION, ENCRYPTION_SPECS, spec, name, r);
}

static uint32_t drv_generate_symmetric_key(void *ctx, const char *name, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  if (enter(d, OP_GEN_SYMMETRIC, r, &st)) return st;
  get_field(d, name ? name : "", d->last_name, sizeof d->last_name);
  char id[KEY_ID_LEN];
  pthread_mutex_lock(&d->table->mu);
  bool ok = key_add_locked(d->table, KIND_SYMMETRIC, NULL, id);
  pthread_mutex_unlock(&d->table->mu);
  if (!ok) return fail(r, TRESOR_STATUS_KMS_FAILURE, "c-soft-kms cannot add a symmetric key");
  return tresor_kms_result_set_key_id(r, id);
}

static uint32_t drv_sign(void *ctx, const char *key_id, const uint8_t *data, size_t data_len,
                         const char *algorithm, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  get_field(d, algorithm, d->last_algorithm, sizeof d->last_algorithm);
  get_field(d, key_id, d->last_key_id, sizeof d->last_key_id);
  if (enter(d, OP_SIGN, r, &st)) return st;
  if (!in_list(SIGNING_ALGOS, algorithm)) return fail(r, TRESOR_STATUS_KMS_FAILURE, "no algorithm %s", algorithm);
  soft_key *k;
  if ((st = lock_usable_key(d, key_id, KIND_SIGNING, r, &k)) != TRESOR_STATUS_OK) return st;
  tresor_bytes sig = {0};
  st = tresor_private_key_sign(k->priv, algorithm, data, data_len, &sig);
  pthread_mutex_unlock(&d->table->mu);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "signing failed (%s)", tresor_status_name(st));
  st = tresor_kms_result_set_bytes(r, sig.data, sig.len);
  tresor_bytes_free(&sig);
  return st;
}

static uint32_t drv_decrypt_asymmetric(void *ctx, const char *key_id, const uint8_t *ct, size_t ct_len,
                                       const char *algorithm, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  get_field(d, algorithm, d->last_algorithm, sizeof d->last_algorithm);
  get_field(d, key_id, d->last_key_id, sizeof d->last_key_id);
  if (enter(d, OP_DECRYPT_ASYMMETRIC, r, &st)) return st;
  soft_key *k;
  if ((st = lock_usable_key(d, key_id, KIND_ENCRYPTION, r, &k)) != TRESOR_STATUS_OK) return st;
  tresor_bytes pt = {0};
  st = tresor_private_key_decrypt(k->priv, algorithm, ct, ct_len, &pt);
  pthread_mutex_unlock(&d->table->mu);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "decryption failed");
  st = tresor_kms_result_set_bytes(r, pt.data, pt.len);
  tresor_bytes_free(&pt); /* wipes the plaintext */
  return st;
}

static uint32_t drv_encrypt_symmetric(void *ctx, const char *key_id, const uint8_t *data, size_t data_len,
                                      tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  get_field(d, key_id, d->last_key_id, sizeof d->last_key_id);
  if (enter(d, OP_ENCRYPT_SYMMETRIC, r, &st)) return st;
  soft_key *k;
  if ((st = lock_usable_key(d, key_id, KIND_SYMMETRIC, r, &k)) != TRESOR_STATUS_OK) return st;
  tresor_bytes ct = {0};
  st = tresor_aes_gcm_encrypt(k->sym, sizeof k->sym, data, data_len, &ct);
  pthread_mutex_unlock(&d->table->mu);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "encryption failed");
  st = tresor_kms_result_set_bytes(r, ct.data, ct.len);
  tresor_bytes_free(&ct);
  return st;
}

static uint32_t drv_decrypt_symmetric(void *ctx, const char *key_id, const uint8_t *ct, size_t ct_len,
                                      tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  get_field(d, key_id, d->last_key_id, sizeof d->last_key_id);
  if (enter(d, OP_DECRYPT_SYMMETRIC, r, &st)) return st;
  soft_key *k;
  if ((st = lock_usable_key(d, key_id, KIND_SYMMETRIC, r, &k)) != TRESOR_STATUS_OK) return st;
  tresor_bytes pt = {0};
  st = tresor_aes_gcm_decrypt(k->sym, sizeof k->sym, ct, ct_len, &pt);
  pthread_mutex_unlock(&d->table->mu);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "the ciphertext does not open under '%s'", key_id);
  st = tresor_kms_result_set_bytes(r, pt.data, pt.len);
  tresor_bytes_free(&pt);
  return st;
}

static uint32_t drv_get_public_key(void *ctx, const char *key_id, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  if (enter(d, OP_GET_PUBLIC_KEY, r, &st)) return st;
  key_table *t = d->table;
  pthread_mutex_lock(&t->mu);
  soft_key *k = key_find(t, key_id);
  if (!k) {
    pthread_mutex_unlock(&t->mu);
    return fail(r, TRESOR_STATUS_KMS_KEY_NOT_FOUND, "c-soft-kms has no key '%s'", key_id);
  }
  if (k->kind == KIND_SYMMETRIC) {
    pthread_mutex_unlock(&t->mu);
    return fail(r, TRESOR_STATUS_KMS_FAILURE, "'%s' is a symmetric key", key_id);
  }
  uint32_t purpose = k->kind == KIND_SIGNING ? TRESOR_KEY_PURPOSE_SIGNING : TRESOR_KEY_PURPOSE_ENCRYPTION;
  const tresor_public_key *pub = NULL;
  st = tresor_private_key_public_key(k->priv, &pub);
  pthread_mutex_unlock(&t->mu);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "no public key");
  tresor_bytes der = {0};
  st = tresor_public_key_to_der(pub, &der);
  tresor_public_key_free(pub);
  if (st != TRESOR_STATUS_OK) return fail(r, st, "no DER");
  st = tresor_kms_result_set_public_key(r, der.data, der.len, purpose);
  tresor_bytes_free(&der);
  return st;
}

static uint32_t drv_key_exists_and_is_active(void *ctx, const char *key_id, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  if (enter(d, OP_EXISTS, r, &st)) return st;
  pthread_mutex_lock(&d->table->mu);
  soft_key *k = key_find(d->table, key_id);
  bool found = k != NULL, enabled = k && k->enabled;
  pthread_mutex_unlock(&d->table->mu);
  if (!found) return fail(r, TRESOR_STATUS_KMS_KEY_NOT_FOUND, "c-soft-kms has no key '%s'", key_id);
  if (!enabled) return fail(r, TRESOR_STATUS_KMS_KEY_DISABLED, "c-soft-kms key '%s' is disabled", key_id);
  return TRESOR_STATUS_OK;
}

static uint32_t drv_delete_key(void *ctx, const char *key_id, tresor_kms_result *r) {
  soft_kms *d = ctx;
  uint32_t st;
  if (enter(d, OP_DELETE, r, &st)) return st;
  pthread_mutex_lock(&d->table->mu);
  soft_key *k = key_find(d->table, key_id);
  if (k) {
    tresor_private_key_free(k->priv);
    memset(k, 0, sizeof *k);
  }
  pthread_mutex_unlock(&d->table->mu);
  if (!k) return fail(r, TRESOR_STATUS_KMS_KEY_NOT_FOUND, "c-soft-kms has no key '%s'", key_id);
  return TRESOR_STATUS_OK;
}

/* Called once by tresor when it is done with the driver: free the instance, count the call. */
static void drv_release(void *ctx) {
  soft_kms *d = ctx;
  atomic_fetch_add(&g_release_calls[d->instance], 1);
  soft_kms_destroy(d);
}

static tresor_kms_driver_v1 soft_kms_table(soft_kms *d) {
  tresor_kms_driver_v1 t = {
      .version = TRESOR_KMS_DRIVER_VERSION_1,
      .ctx = d,
      .name = DRIVER_NAME,
      .signing_key_specs = SIGNING_SPECS,
      .signing_algorithms = SIGNING_ALGOS,
      .encryption_key_specs = ENCRYPTION_SPECS,
      .encryption_algorithms = ENCRYPTION_ALGOS,
      .health = drv_health,
      .generate_signing_key = drv_generate_signing_key,
      .generate_encryption_key = drv_generate_encryption_key,
      .generate_symmetric_key = drv_generate_symmetric_key,
      .sign = drv_sign,
      .decrypt_asymmetric = drv_decrypt_asymmetric,
      .encrypt_symmetric = drv_encrypt_symmetric,
      .decrypt_symmetric = drv_decrypt_symmetric,
      .get_public_key = drv_get_public_key,
      .key_exists_and_is_active = drv_key_exists_and_is_active,
      .delete_key = drv_delete_key,
      .release = drv_release,
  };
  return t;
}

static int releases(int instance) { return atomic_load(&g_release_calls[instance]); }

/* ------------------------------------------------------------------------------------------------ */
/* Vault helpers                                                                                    */
/* ------------------------------------------------------------------------------------------------ */

static const char ENVELOPE_CFG[] =
    "[store]\nurl = \"sqlite://keys.db\"\n"
    "[crypto]\nprovider = \"jce\"\n"
    "[private-key-store.encryption]\ntype = \"kms\"\n"
    "[kms]\ntype = \"driver\"\n";

static const char EXTERNAL_CFG[] =
    "[store]\nurl = \"sqlite://keys.db\"\n"
    "[crypto]\nprovider = \"kms\"\n"
    "[private-key-store.encryption]\ntype = \"none\"\n"
    "[kms]\ntype = \"driver\"\nname = \"c-soft-kms\"\n";

/* External mode with `audit-logging = true`, which (per core/src/config/open.rs) is what puts a
 * caller's driver under tresor's driver layers: retry, rate limits, audit log, health tracking. */
static const char EXTERNAL_LAYERED_CFG[] =
    "[store]\nurl = \"sqlite://keys.db\"\n"
    "[crypto]\nprovider = \"kms\"\n"
    "[private-key-store.encryption]\ntype = \"none\"\n"
    "[kms]\ntype = \"driver\"\nname = \"c-soft-kms\"\naudit-logging = true\n";

/* Open `cfg` in `dir` over the driver `d` (tresor owns `d` once the table is accepted; if it is
 * refused, `d` is destroyed here). max_retries < 0 = tresor's default. */
static tresor_status open_vault(const char *cfg, const char *dir, soft_kms *d, bool create,
                                int max_retries, const tresor_vault **out) {
  tresor_vault_options *o = NULL;
  REQUIRE(tresor_vault_options_new(&o) == TRESOR_STATUS_OK);
  REQUIRE(tresor_vault_options_set_create(o, create) == TRESOR_STATUS_OK);
  if (max_retries >= 0) REQUIRE(tresor_vault_options_set_max_retries(o, (uint32_t)max_retries) == TRESOR_STATUS_OK);
  char audit[600];
  snprintf(audit, sizeof audit, "%s/kms-audit.log", dir);
  REQUIRE(tresor_vault_options_set_audit_log_file(o, audit) == TRESOR_STATUS_OK);
  if (d) {
    tresor_kms_driver_v1 table = soft_kms_table(d);
    tresor_status st = tresor_vault_options_set_kms_driver(o, &table);
    if (st != TRESOR_STATUS_OK) {
      soft_kms_destroy(d);
      tresor_vault_options_free(o);
      return st;
    }
  }
  *out = NULL;
  tresor_status st = tresor_vault_open_config(cfg, dir, o, out);
  tresor_vault_options_free(o); /* the vault keeps its own reference to the driver */
  return st;
}

/* Remove a test directory (flat: the store, its journal files, the audit log). */
static void remove_dir(char *dir) {
  DIR *dd = opendir(dir);
  if (dd) {
    struct dirent *e;
    char path[1024];
    while ((e = readdir(dd)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(dd);
  }
  rmdir(dir);
  free(dir);
}

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool bytes_eq(const tresor_bytes *b, const char *s) {
  return b->data && b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/* The info of key `fp` in the vault's list (list returned for the caller to free). */
static const tresor_key_info *find_info(const tresor_vault *v, const char *fp, const tresor_key_list **list) {
  REQUIRE(tresor_vault_list_keys(v, list) == TRESOR_STATUS_OK);
  for (size_t i = 0; i < tresor_key_list_len(*list); i++) {
    const tresor_key_info *info = tresor_key_list_get(*list, i);
    if (str_eq(tresor_key_info_fingerprint(info), fp)) return info;
  }
  return NULL;
}

static const uint8_t MSG[] = "transfer 100 to alice";

/* ------------------------------------------------------------------------------------------------ */
/* 1. Envelope mode: the C driver holds the wrapper key                                             */
/* ------------------------------------------------------------------------------------------------ */

static void test_envelope(void) {
  char *dir = test_tmpdir("driver");
  key_table *kms = key_table_new();
  soft_kms *d1 = soft_kms_new(kms);
  int id1 = d1->instance;

  /* Opening a new envelope store makes a wrapper key in the driver and wraps the data key with it:
   * one generate_symmetric_key (named "tresor-wrapper-key"), one encrypt_symmetric, nothing else. */
  const tresor_vault *v = NULL;
  EXPECT_OK(open_vault(ENVELOPE_CFG, dir, d1, true, -1, &v));
  REQUIRE(v != NULL);
  EXPECT(str_eq(tresor_vault_mode(v), "envelope"));
  EXPECT(calls(d1, OP_GEN_SYMMETRIC) == 1);
  EXPECT(calls(d1, OP_ENCRYPT_SYMMETRIC) == 1);
  EXPECT(total_calls(d1) == 2);
  char name[64];
  get_field(d1, d1->last_name, name, sizeof name);
  EXPECT(str_eq(name, "tresor-wrapper-key"));

  tresor_bytes wrapper1 = {0};
  EXPECT_OK(tresor_vault_wrapper_key_id(v, &wrapper1));
  REQUIRE(wrapper1.data != NULL);
  EXPECT(key_table_has(kms, (const char *)wrapper1.data));

  /* Keys are made and used in the node; the driver is not involved. */
  tresor_fingerprint sig_fp, enc_fp;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-curve-25519", "protocol", "c-signer", &sig_fp));
  EXPECT_OK(tresor_vault_generate_encryption_key(v, "ec-p-256", "c-decrypter", &enc_fp));
  tresor_bytes sig1 = {0};
  EXPECT_OK(tresor_vault_sign(v, sig_fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig1));
  EXPECT(sig1.len == 64);
  EXPECT_OK(tresor_vault_verify(v, sig_fp.hex, NULL, MSG, sizeof MSG, sig1.data, sig1.len));
  const tresor_public_key *pub = NULL;
  EXPECT_OK(tresor_vault_public_key(v, sig_fp.hex, &pub));
  EXPECT_OK(tresor_public_key_verify(pub, "ed-25519", MSG, sizeof MSG, sig1.data, sig1.len));
  tresor_public_key_free(pub);

  tresor_bytes ct = {0}, pt = {0};
  EXPECT_OK(tresor_vault_encrypt(v, enc_fp.hex, NULL, MSG, sizeof MSG, &ct));
  EXPECT_OK(tresor_vault_decrypt(v, enc_fp.hex, NULL, ct.data, ct.len, &pt));
  EXPECT(pt.len == sizeof MSG && memcmp(pt.data, MSG, sizeof MSG) == 0);
  tresor_bytes_free(&pt);
  EXPECT(calls(d1, OP_SIGN) == 0 && calls(d1, OP_DECRYPT_ASYMMETRIC) == 0);
  EXPECT(total_calls(d1) == 2);

  const tresor_key_list *list = NULL;
  const tresor_key_info *info = find_info(v, sig_fp.hex, &list);
  EXPECT(info && str_eq(tresor_key_info_storage(info), "sealed"));
  EXPECT(info && tresor_key_info_kms_key_id(info) == NULL);
  tresor_key_list_free(list);

  /* Rotating the wrapper key to a new one: a new symmetric key, one decrypt under the old key and one
   * encrypt under the new one. The id the vault reports changes. */
  reset_calls(d1);
  tresor_bytes rotated = {0}, wrapper2 = {0};
  EXPECT_OK(tresor_vault_rotate_wrapper_key(v, NULL, &rotated));
  EXPECT_OK(tresor_vault_wrapper_key_id(v, &wrapper2));
  REQUIRE(rotated.data != NULL && wrapper2.data != NULL);
  EXPECT(strcmp((const char *)wrapper1.data, (const char *)wrapper2.data) != 0);
  EXPECT(strcmp((const char *)rotated.data, (const char *)wrapper2.data) == 0);
  EXPECT(calls(d1, OP_GEN_SYMMETRIC) == 1);
  EXPECT(calls(d1, OP_DECRYPT_SYMMETRIC) == 1);
  EXPECT(calls(d1, OP_ENCRYPT_SYMMETRIC) == 1);
  EXPECT(total_calls(d1) == 3);
  tresor_bytes_free(&rotated);

  /* Rotating to a key the KMS does not have fails with the driver's status and message, and leaves the
   * wrapper key as it was. */
  EXPECT_STATUS(tresor_vault_rotate_wrapper_key(v, "c-key-404", &rotated), TRESOR_STATUS_KMS_KEY_NOT_FOUND);
  EXPECT_ERROR_MENTIONS("c-soft-kms has no key 'c-key-404'");
  EXPECT(rotated.data == NULL);
  tresor_bytes still = {0};
  EXPECT_OK(tresor_vault_wrapper_key_id(v, &still));
  EXPECT(still.data && strcmp((const char *)still.data, (const char *)wrapper2.data) == 0);
  tresor_bytes_free(&still);
  /* Rotating to the key in use is refused before any KMS call. */
  reset_calls(d1);
  EXPECT_STATUS(tresor_vault_rotate_wrapper_key(v, (const char *)wrapper2.data, &rotated),
                TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT(total_calls(d1) == 0);

  /* Rotating the data key: one encrypt_symmetric under the current wrapper key; both keys re-sealed. */
  uint64_t resealed = 0;
  EXPECT_OK(tresor_vault_rotate_data_key(v, &resealed));
  EXPECT(resealed == 2);
  EXPECT(calls(d1, OP_ENCRYPT_SYMMETRIC) == 1 && total_calls(d1) == 1);

  /* Freeing the (only) vault releases the driver, exactly once. */
  EXPECT(releases(id1) == 0);
  tresor_vault_free(v);
  EXPECT(releases(id1) == 1);

  /* Reopen the store with a new driver instance over the same KMS keys: the data key is unwrapped
   * with exactly one decrypt_symmetric (under the rotated wrapper key), and that is the only call.
   * The signing key is the same one: same fingerprint, same (deterministic Ed25519) signature. */
  soft_kms *d2 = soft_kms_new(kms);
  int id2 = d2->instance;
  v = NULL;
  EXPECT_OK(open_vault(ENVELOPE_CFG, dir, d2, false, -1, &v));
  REQUIRE(v != NULL);
  EXPECT(calls(d2, OP_DECRYPT_SYMMETRIC) == 1);
  EXPECT(total_calls(d2) == 1);
  char last_id[KEY_ID_LEN];
  get_field(d2, d2->last_key_id, last_id, sizeof last_id);
  EXPECT(str_eq(last_id, (const char *)wrapper2.data));
  tresor_bytes sig2 = {0};
  EXPECT_OK(tresor_vault_sign(v, sig_fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig2));
  EXPECT(sig2.len == sig1.len && memcmp(sig1.data, sig2.data, sig1.len) == 0);
  EXPECT_OK(tresor_vault_decrypt(v, enc_fp.hex, NULL, ct.data, ct.len, &pt));
  EXPECT(pt.len == sizeof MSG && memcmp(pt.data, MSG, sizeof MSG) == 0);
  tresor_bytes_free(&pt);
  EXPECT(total_calls(d2) == 1);
  tresor_vault_free(v);
  EXPECT(releases(id2) == 1);

  /* The same store with the wrapper key disabled in the KMS: opening fails with the driver's status and
   * message; the driver is still released once (by the options, as the open failed). */
  key_table_set_enabled(kms, (const char *)wrapper2.data, false);
  soft_kms *d3 = soft_kms_new(kms);
  int id3 = d3->instance;
  v = NULL;
  EXPECT_STATUS(open_vault(ENVELOPE_CFG, dir, d3, false, -1, &v), TRESOR_STATUS_KMS_KEY_DISABLED);
  EXPECT_ERROR_MENTIONS("is disabled");
  EXPECT(v == NULL);
  EXPECT(releases(id3) == 1);
  key_table_set_enabled(kms, (const char *)wrapper2.data, true);

  /* A driver over a different KMS (an empty key table) does not have the wrapper key. */
  key_table *other = key_table_new();
  soft_kms *d4 = soft_kms_new(other);
  key_table_unref(other); /* d4 holds the last reference */
  EXPECT_STATUS(open_vault(ENVELOPE_CFG, dir, d4, false, -1, &v), TRESOR_STATUS_KMS_KEY_NOT_FOUND);
  EXPECT_ERROR_MENTIONS("has no key");

  tresor_bytes_free(&wrapper1);
  tresor_bytes_free(&wrapper2);
  tresor_bytes_free(&sig1);
  tresor_bytes_free(&sig2);
  tresor_bytes_free(&ct);
  key_table_unref(kms);
  remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------------ */
/* 2. External mode: the C driver holds the private keys                                            */
/* ------------------------------------------------------------------------------------------------ */

static void test_external(void) {
  char *dir = test_tmpdir("driver");
  key_table *kms = key_table_new();
  soft_kms *d = soft_kms_new(kms);
  int id = d->instance;
  const tresor_vault *v = NULL;
  EXPECT_OK(open_vault(EXTERNAL_CFG, dir, d, true, -1, &v));
  REQUIRE(v != NULL);
  EXPECT(str_eq(tresor_vault_mode(v), "external"));
  /* A new external store gets a data key for the integrity records of its rows (what each key may
   * do): one generate_symmetric_key and one encrypt_symmetric, nothing else. */
  EXPECT(calls(d, OP_GEN_SYMMETRIC) == 1 && calls(d, OP_ENCRYPT_SYMMETRIC) == 1 && total_calls(d) == 2);
  tresor_bytes none = {0};
  EXPECT_STATUS(tresor_vault_wrapper_key_id(v, &none), TRESOR_STATUS_WRONG_MODE);

  /* Generating a key runs the driver's generate function, then checks the key is active and fetches
   * its public key. The vault records the KMS key id; no private key is stored. */
  tresor_fingerprint p256_fp, ed_fp;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", "p256-signer", &p256_fp));
  EXPECT(calls(d, OP_GEN_SIGNING) == 1 && calls(d, OP_EXISTS) == 1 && calls(d, OP_GET_PUBLIC_KEY) == 1);
  char name[64];
  get_field(d, d->last_name, name, sizeof name);
  EXPECT(str_eq(name, "p256-signer"));
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-curve-25519", "protocol,namespace", NULL, &ed_fp));
  EXPECT(calls(d, OP_GEN_SIGNING) == 2);
  get_field(d, d->last_name, name, sizeof name);
  EXPECT(str_eq(name, "")); /* NULL name */

  const tresor_key_list *list = NULL;
  const tresor_key_info *info = find_info(v, p256_fp.hex, &list);
  REQUIRE(info != NULL);
  EXPECT(str_eq(tresor_key_info_storage(info), "external"));
  EXPECT(str_eq(tresor_key_info_spec(info), "ec-p-256"));
  const char *p256_kid = tresor_key_info_kms_key_id(info);
  EXPECT(p256_kid && strncmp(p256_kid, "c-key-", 6) == 0 && key_table_has(kms, p256_kid));
  char p256_id[KEY_ID_LEN];
  snprintf(p256_id, sizeof p256_id, "%s", p256_kid ? p256_kid : "");
  tresor_key_list_free(list);

  /* Signing goes to the driver every time (external keys are not cached), with the spec's default
   * algorithm; the signature verifies with the public key the vault holds. */
  reset_calls(d);
  tresor_bytes sig = {0};
  const tresor_public_key *pub = NULL;
  EXPECT_OK(tresor_vault_sign(v, p256_fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  EXPECT(calls(d, OP_SIGN) == 1);
  char algo[64], kid[KEY_ID_LEN];
  get_field(d, d->last_algorithm, algo, sizeof algo);
  get_field(d, d->last_key_id, kid, sizeof kid);
  EXPECT(str_eq(algo, "ec-dsa-sha-256"));
  EXPECT(str_eq(kid, p256_id));
  EXPECT_OK(tresor_vault_public_key(v, p256_fp.hex, &pub));
  EXPECT(str_eq(tresor_public_key_signing_spec(pub), "ec-p-256"));
  EXPECT_OK(tresor_public_key_verify(pub, NULL, MSG, sizeof MSG, sig.data, sig.len));
  EXPECT_OK(tresor_vault_verify(v, p256_fp.hex, NULL, MSG, sizeof MSG, sig.data, sig.len));
  /* The vault's public key is the driver's: same fingerprint. */
  tresor_fingerprint fp_check;
  const tresor_public_key *drv_pub = key_table_public_key(kms, p256_id);
  EXPECT_OK(tresor_public_key_fingerprint(drv_pub, &fp_check));
  EXPECT(str_eq(fp_check.hex, p256_fp.hex));
  tresor_public_key_free(drv_pub);
  tresor_public_key_free(pub);
  tresor_bytes_free(&sig);
  EXPECT_OK(tresor_vault_sign(v, p256_fp.hex, "protocol", "ec-dsa-sha-256", MSG, sizeof MSG, &sig));
  EXPECT(calls(d, OP_SIGN) == 2);
  tresor_bytes_free(&sig);
  /* An algorithm the key spec does not allow, or a usage the key lacks, is refused before the KMS. */
  EXPECT_STATUS(tresor_vault_sign(v, p256_fp.hex, "protocol", "ed-25519", MSG, sizeof MSG, &sig),
                TRESOR_STATUS_INCOMPATIBLE_KEY);
  EXPECT_STATUS(tresor_vault_sign(v, p256_fp.hex, "namespace", NULL, MSG, sizeof MSG, &sig),
                TRESOR_STATUS_USAGE_NOT_ALLOWED);
  EXPECT(calls(d, OP_SIGN) == 2);
  /* More than the 4096 bytes a KMS signs is refused before the driver is called. */
  static uint8_t big[5000];
  EXPECT_STATUS(tresor_vault_sign(v, p256_fp.hex, "protocol", NULL, big, sizeof big, &sig),
                TRESOR_STATUS_INPUT_TOO_LARGE);
  EXPECT(calls(d, OP_SIGN) == 2);

  EXPECT_OK(tresor_vault_sign(v, ed_fp.hex, "namespace", NULL, MSG, sizeof MSG, &sig));
  get_field(d, d->last_algorithm, algo, sizeof algo);
  EXPECT(str_eq(algo, "ed-25519"));
  EXPECT(sig.len == 64);
  EXPECT_OK(tresor_vault_verify(v, ed_fp.hex, "ed-25519", MSG, sizeof MSG, sig.data, sig.len));
  tresor_bytes_free(&sig);

  /* Encryption: the vault encrypts to the stored public key (no KMS call); decryption goes to the
   * driver with the spec's default algorithm. */
  tresor_fingerprint enc_fp;
  EXPECT_OK(tresor_vault_generate_encryption_key(v, "ec-p-256", "c-decrypter", &enc_fp));
  EXPECT(calls(d, OP_GEN_ENCRYPTION) == 1);
  tresor_bytes ct = {0}, pt = {0};
  reset_calls(d);
  EXPECT_OK(tresor_vault_encrypt(v, enc_fp.hex, NULL, MSG, sizeof MSG, &ct));
  EXPECT(total_calls(d) == 0);
  EXPECT_OK(tresor_vault_decrypt(v, enc_fp.hex, NULL, ct.data, ct.len, &pt));
  EXPECT(calls(d, OP_DECRYPT_ASYMMETRIC) == 1);
  get_field(d, d->last_algorithm, algo, sizeof algo);
  EXPECT(str_eq(algo, "ecies-hkdf-hmac-sha-256-aes-128-cbc"));
  EXPECT(pt.len == sizeof MSG && memcmp(pt.data, MSG, sizeof MSG) == 0);
  tresor_bytes_free(&pt);
  /* A tampered ciphertext: the driver's decryption failure comes back as it is. */
  ct.data[ct.len - 1] ^= 1;
  tresor_status st = tresor_vault_decrypt(v, enc_fp.hex, NULL, ct.data, ct.len, &pt);
  EXPECT(st == TRESOR_STATUS_DECRYPTION_FAILED || st == TRESOR_STATUS_MALFORMED_CIPHERTEXT);
  EXPECT(pt.data == NULL);
  tresor_bytes_free(&ct);

  /* Registering a key made in the KMS beforehand (by an operator): checked active, public key fetched,
   * stored under the fingerprint of that public key; then usable for signing. */
  char reg_id[KEY_ID_LEN];
  key_table_add(kms, KIND_SIGNING, "ec-p-384", reg_id);
  reset_calls(d);
  tresor_fingerprint reg_fp;
  EXPECT_OK(tresor_vault_register_kms_signing_key(v, reg_id, "ec-p-384", "namespace", "registered", &reg_fp));
  tresor_fingerprint ns_fp = reg_fp;
  EXPECT(calls(d, OP_EXISTS) == 1 && calls(d, OP_GET_PUBLIC_KEY) == 1 && total_calls(d) == 2);
  drv_pub = key_table_public_key(kms, reg_id);
  EXPECT_OK(tresor_public_key_fingerprint(drv_pub, &fp_check));
  EXPECT(str_eq(fp_check.hex, reg_fp.hex));
  EXPECT_OK(tresor_vault_sign(v, reg_fp.hex, "namespace", NULL, MSG, sizeof MSG, &sig));
  get_field(d, d->last_algorithm, algo, sizeof algo);
  EXPECT(str_eq(algo, "ec-dsa-sha-384"));
  EXPECT_OK(tresor_public_key_verify(drv_pub, NULL, MSG, sizeof MSG, sig.data, sig.len));
  tresor_public_key_free(drv_pub);
  tresor_bytes_free(&sig);
  /* Registering it twice, an unknown key, a disabled key, an encryption key as a signing key. */
  EXPECT_STATUS(tresor_vault_register_kms_signing_key(v, reg_id, "ec-p-384", "namespace", NULL, &reg_fp),
                TRESOR_STATUS_KEY_ALREADY_EXISTS);
  EXPECT_STATUS(tresor_vault_register_kms_signing_key(v, "c-key-404", "ec-p-256", "protocol", NULL, &reg_fp),
                TRESOR_STATUS_KMS_KEY_NOT_FOUND);
  EXPECT_ERROR_MENTIONS("c-soft-kms has no key 'c-key-404'");
  char off_id[KEY_ID_LEN];
  key_table_add(kms, KIND_SIGNING, "ec-p-256", off_id);
  key_table_set_enabled(kms, off_id, false);
  EXPECT_STATUS(tresor_vault_register_kms_signing_key(v, off_id, "ec-p-256", "protocol", NULL, &reg_fp),
                TRESOR_STATUS_KMS_KEY_DISABLED);
  char enc_id[KEY_ID_LEN];
  key_table_add(kms, KIND_ENCRYPTION, "ec-p-256", enc_id);
  EXPECT_STATUS(tresor_vault_register_kms_signing_key(v, enc_id, "ec-p-256", "protocol", NULL, &reg_fp),
                TRESOR_STATUS_INCOMPATIBLE_KEY);
  /* The header says the fetched key is "checked against `spec`": a P-256 key registered as P-384. */
  char p256_reg[KEY_ID_LEN];
  key_table_add(kms, KIND_SIGNING, "ec-p-256", p256_reg);
  st = tresor_vault_register_kms_signing_key(v, p256_reg, "ec-p-384", "protocol", NULL, &reg_fp);
  EXPECT(st == TRESOR_STATUS_INCOMPATIBLE_KEY);
  /* With a NULL spec any signing key is accepted, stored with the spec the KMS reports. */
  EXPECT_OK(tresor_vault_register_kms_signing_key(v, p256_reg, NULL, "protocol", NULL, &reg_fp));
  list = NULL;
  info = find_info(v, reg_fp.hex, &list);
  EXPECT(info && str_eq(tresor_key_info_spec(info), "ec-p-256"));
  tresor_key_list_free(list);

  /* Canton's rotate_kms_node_key: a node key rotated to a key made in the KMS beforehand keeps its
   * usage; a namespace key is refused, as in Canton (and as tresor_vault_rotate_node_key refuses it). */
  char next_id[KEY_ID_LEN];
  key_table_add(kms, KIND_SIGNING, "ec-p-256", next_id);
  tresor_fingerprint next_fp;
  EXPECT_OK(tresor_vault_rotate_kms_node_key(v, reg_fp.hex, next_id, "rotated", &next_fp));
  list = NULL;
  info = find_info(v, next_fp.hex, &list);
  EXPECT(info && str_eq(tresor_key_info_usage(info), "protocol") && str_eq(tresor_key_info_name(info), "rotated"));
  tresor_key_list_free(list);
  char other_id[KEY_ID_LEN];
  key_table_add(kms, KIND_SIGNING, "ec-p-384", other_id);
  EXPECT_STATUS(tresor_vault_rotate_kms_node_key(v, ns_fp.hex, other_id, NULL, &next_fp),
                TRESOR_STATUS_USAGE_NOT_ALLOWED);
  EXPECT_ERROR_MENTIONS("namespace key");
  EXPECT_STATUS(tresor_vault_rotate_node_key(v, ns_fp.hex, &next_fp), TRESOR_STATUS_USAGE_NOT_ALLOWED);

  /* Health: whatever the driver's health function says, with its detail. */
  tresor_kms_health state = 99;
  tresor_bytes detail = {0};
  EXPECT_OK(tresor_vault_health(v, &state, &detail));
  EXPECT(state == TRESOR_KMS_HEALTH_OK);
  EXPECT(detail.data && detail.len == 0);
  tresor_bytes_free(&detail);
  set_health(d, TRESOR_KMS_HEALTH_DEGRADED, "c-soft-kms: replica lag 3 s");
  EXPECT_OK(tresor_vault_health(v, &state, &detail));
  EXPECT(state == TRESOR_KMS_HEALTH_DEGRADED);
  EXPECT(bytes_eq(&detail, "c-soft-kms: replica lag 3 s"));
  tresor_bytes_free(&detail);
  set_health(d, TRESOR_KMS_HEALTH_FATAL, NULL);
  EXPECT_OK(tresor_vault_health(v, &state, NULL));
  EXPECT(state == TRESOR_KMS_HEALTH_FATAL);
  /* A health function that fails: the KMS is reported FAILED, with the driver's message. */
  set_health(d, TRESOR_KMS_HEALTH_OK, NULL);
  set_fault(d, OP_HEALTH, TRESOR_STATUS_KMS_UNAVAILABLE, 1, "health endpoint down");
  EXPECT_OK(tresor_vault_health(v, &state, &detail));
  EXPECT(state == TRESOR_KMS_HEALTH_FAILED);
  EXPECT(detail.data && strstr((const char *)detail.data, "health endpoint down") != NULL);
  tresor_bytes_free(&detail);
  EXPECT(calls(d, OP_HEALTH) == 4);

  /* Deleting an external key forgets it in the vault; the key stays in the KMS (as documented). */
  reset_calls(d);
  EXPECT_OK(tresor_vault_delete_key(v, p256_fp.hex));
  EXPECT(calls(d, OP_DELETE) == 0 && key_table_has(kms, p256_id));
  EXPECT_STATUS(tresor_vault_sign(v, p256_fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig),
                TRESOR_STATUS_KEY_NOT_FOUND);

  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  key_table_unref(kms);
  remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------------ */
/* 3. Error paths                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

/* An external vault over a fresh driver, with one P-256 signing key; returns the vault. */
static const tresor_vault *external_with_key(const char *cfg, char *dir, key_table *kms, int max_retries,
                                             soft_kms **out_d, tresor_fingerprint *fp) {
  soft_kms *d = soft_kms_new(kms);
  const tresor_vault *v = NULL;
  REQUIRE(open_vault(cfg, dir, d, true, max_retries, &v) == TRESOR_STATUS_OK);
  REQUIRE(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", NULL, fp) == TRESOR_STATUS_OK);
  reset_calls(d);
  *out_d = d;
  return v;
}

static void test_errors(void) {
  tresor_bytes sig = {0};
  tresor_fingerprint fp;
  soft_kms *d;

  /* --- with the driver layers (audit-logging = true): transient failures are retried --- */
  char *dir = test_tmpdir("driver");
  key_table *kms = key_table_new();
  const tresor_vault *v = external_with_key(EXTERNAL_LAYERED_CFG, dir, kms, 5, &d, &fp);
  int id = d->instance;

  /* KMS_UNAVAILABLE twice, then success: the vault call succeeds after 3 driver calls. */
  set_fault(d, OP_SIGN, TRESOR_STATUS_KMS_UNAVAILABLE, 2, "c-soft-kms: connection reset");
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  EXPECT(calls(d, OP_SIGN) == 3);
  EXPECT(sig.data != NULL);
  tresor_bytes_free(&sig);
  /* KMS_THROTTLED is retried as well. */
  reset_calls(d);
  set_fault(d, OP_SIGN, TRESOR_STATUS_KMS_THROTTLED, 1, NULL);
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  EXPECT(calls(d, OP_SIGN) == 2);
  tresor_bytes_free(&sig);

  /* KMS_KEY_DISABLED is not retried, and the driver's message reaches the caller. */
  reset_calls(d);
  set_fault(d, OP_SIGN, TRESOR_STATUS_KMS_KEY_DISABLED, 1, "key c-key-1 was disabled by an operator");
  EXPECT_STATUS(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig),
                TRESOR_STATUS_KMS_KEY_DISABLED);
  EXPECT_ERROR_MENTIONS("key c-key-1 was disabled by an operator");
  EXPECT_ERROR_MENTIONS(DRIVER_NAME);
  EXPECT(calls(d, OP_SIGN) == 1);
  EXPECT(sig.data == NULL);

  /* KMS_PERMISSION_DENIED is not retried either (the fault would last 5 calls). */
  reset_calls(d);
  set_fault(d, OP_SIGN, TRESOR_STATUS_KMS_PERMISSION_DENIED, 5, "role lacks kms:Sign");
  EXPECT_STATUS(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig),
                TRESOR_STATUS_KMS_PERMISSION_DENIED);
  EXPECT_ERROR_MENTIONS("role lacks kms:Sign");
  EXPECT(calls(d, OP_SIGN) == 1);
  set_fault(d, OP_SIGN, 0, 0, NULL);

  /* A status tresor does not know is KMS_FAILURE, and the message names it. */
  reset_calls(d);
  set_fault(d, OP_SIGN, 12345, 1, NULL);
  tresor_status st = tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig);
  EXPECT(st == TRESOR_STATUS_KMS_FAILURE);
  EXPECT(!tresor_status_is_retryable(st));
  EXPECT_ERROR_MENTIONS("12345");
  EXPECT(calls(d, OP_SIGN) == 1);

  /* A driver bug: OK from sign without a signature. An error, not a crash (and not retried). */
  reset_calls(d);
  set_fault(d, OP_SIGN, TRESOR_STATUS_OK, 1, NULL);
  st = tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig);
  EXPECT(st != TRESOR_STATUS_OK);
  EXPECT(st == TRESOR_STATUS_KMS_FAILURE);
  EXPECT_ERROR_MENTIONS("without a signature");
  EXPECT(sig.data == NULL);
  EXPECT(calls(d, OP_SIGN) == 1);
  /* ... and the next call works again. */
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  tresor_bytes_free(&sig);

  /* The same driver bug in generate_signing_key (no key id) and get_public_key (no key). */
  tresor_fingerprint fp2;
  set_fault(d, OP_GEN_SIGNING, TRESOR_STATUS_OK, 1, NULL);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", NULL, &fp2), TRESOR_STATUS_KMS_FAILURE);
  EXPECT_ERROR_MENTIONS("without a key id");
  set_fault(d, OP_GET_PUBLIC_KEY, TRESOR_STATUS_OK, 1, NULL);
  EXPECT_STATUS(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", NULL, &fp2), TRESOR_STATUS_KMS_FAILURE);
  EXPECT_ERROR_MENTIONS("without a public key");

  /* A key still being created: key_exists_and_is_active answers KMS_UNAVAILABLE twice; generation
   * waits for it (create-key-check policy) and succeeds. */
  reset_calls(d);
  set_fault(d, OP_EXISTS, TRESOR_STATUS_KMS_UNAVAILABLE, 2, "still creating");
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-curve-25519", "protocol", NULL, &fp2));
  EXPECT(calls(d, OP_EXISTS) == 3);

  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  remove_dir(dir);

  /* --- max_retries 1, the KMS always unavailable: 1 try + 1 retry, then KMS_UNAVAILABLE --- */
  dir = test_tmpdir("driver");
  v = external_with_key(EXTERNAL_LAYERED_CFG, dir, kms, 1, &d, &fp);
  id = d->instance;
  set_fault(d, OP_SIGN, TRESOR_STATUS_KMS_UNAVAILABLE, -1, "c-soft-kms is down");
  st = tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig);
  EXPECT(st == TRESOR_STATUS_KMS_UNAVAILABLE);
  EXPECT(tresor_status_is_retryable(st));
  EXPECT_ERROR_MENTIONS("c-soft-kms is down");
  EXPECT(calls(d, OP_SIGN) == 2);
  /* The health-tracking layer reports the run of transient failures (the driver itself says OK). */
  tresor_kms_health state = 99;
  EXPECT_OK(tresor_vault_health(v, &state, NULL));
  EXPECT(state == TRESOR_KMS_HEALTH_DEGRADED);
  set_fault(d, OP_SIGN, 0, 0, NULL);
  EXPECT_OK(tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  tresor_bytes_free(&sig);
  EXPECT_OK(tresor_vault_health(v, &state, NULL));
  EXPECT(state == TRESOR_KMS_HEALTH_OK);
  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  remove_dir(dir);

  /* --- without audit-logging a transient failure is retried too (a caller's driver always gets the
   * retry layer; it did not before, and this test showed it) --- */
  dir = test_tmpdir("driver");
  v = external_with_key(EXTERNAL_CFG, dir, kms, 5, &d, &fp);
  id = d->instance;
  set_fault(d, OP_SIGN, TRESOR_STATUS_KMS_UNAVAILABLE, 2, "c-soft-kms: connection reset");
  st = tresor_vault_sign(v, fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig);
  EXPECT(st == TRESOR_STATUS_OK && calls(d, OP_SIGN) == 3);
  tresor_bytes_free(&sig);
  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  remove_dir(dir);

  /* --- envelope mode: faults in encrypt_symmetric while opening a new store --- */
  dir = test_tmpdir("driver");
  d = soft_kms_new(kms);
  id = d->instance;
  set_fault(d, OP_ENCRYPT_SYMMETRIC, TRESOR_STATUS_KMS_FAILURE, 1, "wrap refused");
  EXPECT_STATUS(open_vault(ENVELOPE_CFG, dir, d, true, -1, &v), TRESOR_STATUS_KMS_FAILURE);
  EXPECT_ERROR_MENTIONS("wrap refused");
  EXPECT(releases(id) == 1);
  /* Nothing was recorded: the next open starts over (a new wrapper key) and works. */
  d = soft_kms_new(kms);
  id = d->instance;
  v = NULL;
  EXPECT_OK(open_vault(ENVELOPE_CFG, dir, d, true, -1, &v));
  EXPECT(calls(d, OP_GEN_SYMMETRIC) == 1 && calls(d, OP_ENCRYPT_SYMMETRIC) == 1);
  /* A failing encrypt_symmetric during a data-key rotation leaves the store as it was. */
  tresor_fingerprint efp;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-curve-25519", "protocol", NULL, &efp));
  set_fault(d, OP_ENCRYPT_SYMMETRIC, TRESOR_STATUS_KMS_PERMISSION_DENIED, 1, "no kms:Encrypt");
  uint64_t n = 99;
  EXPECT_STATUS(tresor_vault_rotate_data_key(v, &n), TRESOR_STATUS_KMS_PERMISSION_DENIED);
  EXPECT_ERROR_MENTIONS("no kms:Encrypt");
  EXPECT(n == 99);
  EXPECT_OK(tresor_vault_sign(v, efp.hex, "protocol", NULL, MSG, sizeof MSG, &sig));
  tresor_bytes_free(&sig);
  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  remove_dir(dir);

  /* --- optional functions left NULL --- */
  /* Envelope mode needs generate_symmetric_key: without it, opening a new store fails clearly. */
  dir = test_tmpdir("driver");
  d = soft_kms_new(kms);
  id = d->instance;
  tresor_kms_driver_v1 t = soft_kms_table(d);
  t.generate_symmetric_key = NULL;
  t.health = NULL;
  tresor_vault_options *o = NULL;
  REQUIRE(tresor_vault_options_new(&o) == TRESOR_STATUS_OK);
  EXPECT_OK(tresor_vault_options_set_create(o, true));
  EXPECT_OK(tresor_vault_options_set_kms_driver(o, &t));
  v = NULL;
  st = tresor_vault_open_config(ENVELOPE_CFG, dir, o, &v);
  EXPECT(st == TRESOR_STATUS_UNSUPPORTED_ALGORITHM);
  EXPECT_ERROR_MENTIONS("generate_symmetric_key");
  EXPECT(v == NULL);
  /* External mode does not need it (its rows' rights then stay unbound); a NULL health function means
   * "always OK". */
  EXPECT_OK(tresor_vault_open_config(EXTERNAL_CFG, dir, o, &v));
  REQUIRE(v != NULL);
  state = 99;
  EXPECT_OK(tresor_vault_health(v, &state, NULL));
  EXPECT(state == TRESOR_KMS_HEALTH_OK);
  EXPECT(calls(d, OP_HEALTH) == 0);
  /* The options and the vault share the driver: released once, when the last of them goes. */
  tresor_vault_options_free(o);
  EXPECT(releases(id) == 0);
  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  remove_dir(dir);

  key_table_unref(kms);
}

/* ------------------------------------------------------------------------------------------------ */
/* 4. Invalid tables, config/driver conflicts, ownership of ctx                                     */
/* ------------------------------------------------------------------------------------------------ */

/* Set a table on fresh options; returns the status. The options are freed. */
static tresor_status try_table(const tresor_kms_driver_v1 *t) {
  tresor_vault_options *o = NULL;
  REQUIRE(tresor_vault_options_new(&o) == TRESOR_STATUS_OK);
  tresor_status st = tresor_vault_options_set_kms_driver(o, t);
  tresor_vault_options_free(o);
  return st;
}

static void test_invalid_tables(void) {
  key_table *kms = key_table_new();

  /* A version this library does not implement: refused, and `release` is not called (the caller
   * still owns ctx). */
  soft_kms *d = soft_kms_new(kms);
  tresor_kms_driver_v1 t = soft_kms_table(d);
  t.version = 2;
  EXPECT_STATUS(try_table(&t), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("version");
  EXPECT(releases(d->instance) == 0);

  /* A required function missing: NULL_ARGUMENT naming it. */
  t = soft_kms_table(d);
  t.sign = NULL;
  EXPECT_STATUS(try_table(&t), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_ERROR_MENTIONS("sign");
  t = soft_kms_table(d);
  t.get_public_key = NULL;
  t.delete_key = NULL;
  EXPECT_STATUS(try_table(&t), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_ERROR_MENTIONS("get_public_key, delete_key");
  EXPECT(releases(d->instance) == 0);

  /* A spec tresor does not know in a list. */
  t = soft_kms_table(d);
  t.signing_key_specs = "ec-p-256,ec-p-999";
  tresor_status st = try_table(&t);
  EXPECT(st != TRESOR_STATUS_OK);
  EXPECT_ERROR_MENTIONS("signing_key_specs");
  EXPECT_ERROR_MENTIONS("ec-p-999");
  t = soft_kms_table(d);
  t.encryption_algorithms = "rsa-oaep-sha-1";
  EXPECT(try_table(&t) != TRESOR_STATUS_OK);
  EXPECT_ERROR_MENTIONS("encryption_algorithms");
  EXPECT(releases(d->instance) == 0);

  /* NULL table, NULL options. */
  tresor_vault_options *o = NULL;
  REQUIRE(tresor_vault_options_new(&o) == TRESOR_STATUS_OK);
  EXPECT_STATUS(tresor_vault_options_set_kms_driver(o, NULL), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT_ERROR_MENTIONS("driver");
  t = soft_kms_table(d);
  EXPECT_STATUS(tresor_vault_options_set_kms_driver(NULL, &t), TRESOR_STATUS_NULL_ARGUMENT);
  EXPECT(releases(d->instance) == 0);
  soft_kms_destroy(d); /* never accepted: ours to free */

  /* `[kms] type = "driver"` with no driver from the program: an error that says so. */
  char *dir = test_tmpdir("driver");
  const tresor_vault *v = NULL;
  EXPECT_OK(tresor_vault_options_set_create(o, true));
  st = tresor_vault_open_config(EXTERNAL_CFG, dir, o, &v);
  EXPECT(st == TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("driver");
  EXPECT_ERROR_MENTIONS("given none");
  EXPECT(v == NULL);

  /* A driver with `[kms] type = "software"`: INVALID_ARGUMENT. The driver was accepted by the options,
   * so it is released once, when the options are freed. */
  d = soft_kms_new(kms);
  int id = d->instance;
  t = soft_kms_table(d);
  EXPECT_OK(tresor_vault_options_set_kms_driver(o, &t));
  static const char SOFTWARE_CFG[] =
      "[store]\nurl = \"sqlite://keys.db\"\n[crypto]\nprovider = \"kms\"\n"
      "[kms]\ntype = \"software\"\n";
  EXPECT_STATUS(tresor_vault_open_config(SOFTWARE_CFG, dir, o, &v), TRESOR_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("'software'");
  EXPECT(v == NULL);
  EXPECT(total_calls(d) == 0);

  /* Setting a second driver on the same options releases the first one at once. */
  soft_kms *d2 = soft_kms_new(kms);
  int id2 = d2->instance;
  t = soft_kms_table(d2);
  EXPECT(releases(id) == 0);
  EXPECT_OK(tresor_vault_options_set_kms_driver(o, &t));
  EXPECT(releases(id) == 1);

  /* No `[kms]` block at all is accepted with a driver (envelope mode over it). */
  static const char NO_KMS_BLOCK_CFG[] =
      "[store]\nurl = \"sqlite://keys.db\"\n[private-key-store.encryption]\ntype = \"kms\"\n";
  EXPECT_OK(tresor_vault_open_config(NO_KMS_BLOCK_CFG, dir, o, &v));
  REQUIRE(v != NULL);
  EXPECT(str_eq(tresor_vault_mode(v), "envelope"));
  EXPECT(calls(d2, OP_GEN_SYMMETRIC) == 1);
  tresor_vault_free(v);
  EXPECT(releases(id2) == 0); /* the options still hold it */
  tresor_vault_options_free(o);
  EXPECT(releases(id2) == 1);
  remove_dir(dir);

  /* Clear mode has no KMS: a driver given anyway is never called, and released once. */
  dir = test_tmpdir("driver");
  d = soft_kms_new(kms);
  id = d->instance;
  static const char CLEAR_CFG[] =
      "[store]\nurl = \"sqlite://keys.db\"\n[private-key-store.encryption]\ntype = \"none\"\n"
      "[kms]\ntype = \"driver\"\n";
  v = NULL;
  EXPECT_OK(open_vault(CLEAR_CFG, dir, d, true, -1, &v));
  REQUIRE(v != NULL);
  EXPECT(str_eq(tresor_vault_mode(v), "clear"));
  tresor_kms_health state = 99;
  EXPECT_OK(tresor_vault_health(v, &state, NULL));
  EXPECT(state == TRESOR_KMS_HEALTH_OK);
  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  remove_dir(dir);

  /* A table without `release`: accepted; tresor never frees ctx, the program does. */
  dir = test_tmpdir("driver");
  d = soft_kms_new(kms);
  id = d->instance;
  t = soft_kms_table(d);
  t.release = NULL;
  REQUIRE(tresor_vault_options_new(&o) == TRESOR_STATUS_OK);
  EXPECT_OK(tresor_vault_options_set_create(o, true));
  EXPECT_OK(tresor_vault_options_set_kms_driver(o, &t));
  v = NULL;
  EXPECT_OK(tresor_vault_open_config(ENVELOPE_CFG, dir, o, &v));
  tresor_vault_options_free(o);
  tresor_vault_free(v);
  EXPECT(calls(d, OP_GEN_SYMMETRIC) == 1);
  EXPECT(releases(id) == 0);
  soft_kms_destroy(d);
  remove_dir(dir);

  key_table_unref(kms);
}

/* ------------------------------------------------------------------------------------------------ */
/* 5. Several threads signing through the driver at once                                           */
/* ------------------------------------------------------------------------------------------------ */

#define THREADS 4
#define SIGNS_PER_THREAD 8

typedef struct {
  const tresor_vault *v;
  const tresor_public_key *pub;
  const char *fp;
  int ok;
} signer_arg;

static void *signer_thread(void *p) {
  signer_arg *a = p;
  for (int i = 0; i < SIGNS_PER_THREAD; i++) {
    uint8_t msg[32] = {0};
    snprintf((char *)msg, sizeof msg, "message %d", i);
    tresor_bytes sig = {0};
    if (tresor_vault_sign(a->v, a->fp, "protocol", NULL, msg, sizeof msg, &sig) == TRESOR_STATUS_OK &&
        tresor_public_key_verify(a->pub, NULL, msg, sizeof msg, sig.data, sig.len) == TRESOR_STATUS_OK) {
      a->ok++;
    }
    tresor_bytes_free(&sig);
  }
  return NULL;
}

static void test_threads(void) {
  char *dir = test_tmpdir("driver");
  key_table *kms = key_table_new();
  soft_kms *d = soft_kms_new(kms);
  int id = d->instance;
  const tresor_vault *v = NULL;
  EXPECT_OK(open_vault(EXTERNAL_CFG, dir, d, true, -1, &v));
  REQUIRE(v != NULL);
  tresor_fingerprint fp;
  EXPECT_OK(tresor_vault_generate_signing_key(v, "ec-p-256", "protocol", NULL, &fp));
  const tresor_public_key *pub = NULL;
  EXPECT_OK(tresor_vault_public_key(v, fp.hex, &pub));
  reset_calls(d);

  pthread_t th[THREADS];
  signer_arg args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (signer_arg){.v = v, .pub = pub, .fp = fp.hex, .ok = 0};
    REQUIRE(pthread_create(&th[i], NULL, signer_thread, &args[i]) == 0);
  }
  int ok = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    ok += args[i].ok;
  }
  EXPECT(ok == THREADS * SIGNS_PER_THREAD);
  EXPECT(calls(d, OP_SIGN) == THREADS * SIGNS_PER_THREAD);

  tresor_public_key_free(pub);
  tresor_vault_free(v);
  EXPECT(releases(id) == 1);
  key_table_unref(kms);
  remove_dir(dir);
}

int main(void) {
  test_envelope();
  test_external();
  test_errors();
  test_invalid_tables();
  test_threads();
  return test_summary("test_driver");
}
