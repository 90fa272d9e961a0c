/* The shared test vectors through the C API: the C runner of tests/vectors (schema in
 * tests/vectors/README.md), reading the flattened form tests/vectors/c/vectors.txt that tresor-codegen
 * writes next to the JSON files.
 *
 * Every case of every file is run, or the file says why the C runner does not run it (its
 * not_run_by.c, printed). An operation this runner does not implement, in a file that does not say
 * why, is a failure. Usage: test_vectors <path to vectors.txt> */
#include "test_util.h"

#include <ctype.h>
#include <stdint.h>

#define MAX_FIELDS 16

typedef struct {
  char name[32];
  uint8_t *data; /* decoded value (NUL-terminated for text), NULL for null */
  size_t len;
  long long num; /* for n: values */
  int is_num;
} field;

typedef struct {
  char id[128];
  char expect[16];
  char error_kind[48];
  field in[MAX_FIELDS];
  int n_in;
  field out[MAX_FIELDS];
  int n_out;
} vcase;

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decode `x:`/`t:` hex (NUL-terminated copy), `n:` number, `-` null. */
static void decode(field *f, const char *v) {
  f->data = NULL;
  f->len = 0;
  f->is_num = 0;
  if (strcmp(v, "-") == 0) return;
  if (strncmp(v, "n:", 2) == 0) {
    f->is_num = 1;
    f->num = strtoll(v + 2, NULL, 10);
    return;
  }
  REQUIRE(strncmp(v, "x:", 2) == 0 || strncmp(v, "t:", 2) == 0);
  const char *h = v + 2;
  size_t n = strlen(h);
  REQUIRE(n % 2 == 0);
  f->len = n / 2;
  f->data = malloc(f->len + 1);
  REQUIRE(f->data != NULL);
  for (size_t i = 0; i < f->len; i++) {
    int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
    REQUIRE(a >= 0 && b >= 0);
    f->data[i] = (uint8_t)(a * 16 + b);
  }
  f->data[f->len] = 0;
}

static field *get(field *fs, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(fs[i].name, name) == 0) return &fs[i];
  return NULL;
}

static field *in(vcase *c, const char *name) {
  field *f = get(c->in, c->n_in, name);
  if (!f) {
    fprintf(stderr, "case %s: no input '%s'\n", c->id, name);
    exit(2);
  }
  return f;
}

static void free_case(vcase *c) {
  for (int i = 0; i < c->n_in; i++) free(c->in[i].data);
  for (int i = 0; i < c->n_out; i++) free(c->out[i].data);
  c->n_in = c->n_out = 0;
}

/* The outcome of one case: a status and, on success, the output fields produced. */
typedef struct {
  tresor_status st;
  field got[MAX_FIELDS];
  int n_got;
} result;

static void put(result *r, const char *name, const uint8_t *d, size_t n) {
  REQUIRE(r->n_got < MAX_FIELDS);
  field *f = &r->got[r->n_got++];
  snprintf(f->name, sizeof f->name, "%s", name);
  f->is_num = 0;
  f->data = malloc(n + 1);
  REQUIRE(f->data != NULL);
  if (n) memcpy(f->data, d, n);
  f->data[n] = 0;
  f->len = n;
}

static void put_str(result *r, const char *name, const char *s) {
  if (s == NULL) {
    REQUIRE(r->n_got < MAX_FIELDS);
    field *f = &r->got[r->n_got++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->data = NULL;
    f->len = 0;
    f->is_num = 0;
    return;
  }
  put(r, name, (const uint8_t *)s, strlen(s));
}

static const char *fp_of(const tresor_public_key *k, tresor_fingerprint *fp) {
  return tresor_public_key_fingerprint(k, fp) == TRESOR_STATUS_OK ? fp->hex : "?";
}

static void run(const char *op, const char *algorithm, vcase *c, const char *tmp, result *r) {
  r->n_got = 0;
  r->st = TRESOR_STATUS_OK;
  if (strcmp(op, "verify") == 0) {
    const tresor_public_key *k = NULL;
    field *pk = in(c, "public_key"), *msg = in(c, "msg"), *sig = in(c, "sig");
    r->st = tresor_public_key_from_der(pk->data, pk->len, &k);
    if (r->st == TRESOR_STATUS_OK) r->st = tresor_public_key_verify(k, algorithm, msg->data, msg->len, sig->data, sig->len);
    tresor_public_key_free(k);
  } else if (strcmp(op, "sign") == 0 || strcmp(op, "decrypt") == 0) {
    const tresor_private_key *k = NULL;
    field *sk = in(c, "private_key");
    int sign = strcmp(op, "sign") == 0;
    field *data = in(c, sign ? "msg" : "ciphertext");
    tresor_bytes b = {0};
    r->st = tresor_private_key_from_der(sk->data, sk->len, &k);
    if (r->st == TRESOR_STATUS_OK)
      r->st = sign ? tresor_private_key_sign(k, algorithm, data->data, data->len, &b)
                   : tresor_private_key_decrypt(k, algorithm, data->data, data->len, &b);
    if (r->st == TRESOR_STATUS_OK) put(r, sign ? "sig" : "plaintext", b.data, b.len);
    tresor_bytes_free(&b);
    tresor_private_key_free(k);
  } else if (strcmp(op, "fingerprint") == 0 || strcmp(op, "public-key-parse") == 0) {
    const tresor_public_key *k = NULL;
    int parse = strcmp(op, "public-key-parse") == 0;
    field *key = in(c, parse ? "key" : "public_key");
    const char *format = parse ? (const char *)in(c, "format")->data : "der";
    if (strcmp(format, "der") == 0) {
      /* public-key-parse gives DER as hex text; fingerprint gives it as bytes. */
      if (parse) {
        field bytes;
        char *tagged = malloc(key->len + 3);
        REQUIRE(tagged != NULL);
        snprintf(tagged, key->len + 3, "x:%s", (const char *)key->data);
        decode(&bytes, tagged);
        free(tagged);
        r->st = tresor_public_key_from_der(bytes.data, bytes.len, &k);
        free(bytes.data);
      } else {
        r->st = tresor_public_key_from_der(key->data, key->len, &k);
      }
    } else if (strcmp(format, "pem") == 0) {
      r->st = tresor_public_key_from_pem((const char *)key->data, key->len, &k);
    } else {
      fprintf(stderr, "case %s: format %s is not run by C but its file does not say so\n", c->id, format);
      r->st = TRESOR_STATUS_INTERNAL;
      return;
    }
    if (r->st == TRESOR_STATUS_OK) {
      tresor_fingerprint fp;
      put_str(r, "fingerprint", fp_of(k, &fp));
      if (parse) {
        tresor_bytes der = {0};
        REQUIRE(tresor_public_key_to_der(k, &der) == TRESOR_STATUS_OK);
        put(r, "public_key", der.data, der.len);
        tresor_bytes_free(&der);
      }
    }
    tresor_public_key_free(k);
  } else if (strcmp(op, "canton-hash") == 0) {
    field *p = in(c, "purpose"), *content = in(c, "content");
    uint8_t h[34];
    r->st = tresor_canton_hash((uint32_t)p->num, content->data, content->len, h, sizeof h);
    if (r->st == TRESOR_STATUS_OK) put(r, "hash", h, sizeof h);
  } else if (strcmp(op, "aes-128-gcm-decrypt") == 0) {
    field *key = in(c, "key"), *ct = in(c, "ciphertext");
    tresor_bytes pt = {0};
    r->st = tresor_aes_gcm_decrypt(key->data, key->len, ct->data, ct->len, &pt);
    if (r->st == TRESOR_STATUS_OK) put(r, "plaintext", pt.data, pt.len);
    tresor_bytes_free(&pt);
  } else if (strcmp(op, "hmac-sha-256") == 0) {
    field *key = in(c, "key"), *msg = in(c, "msg");
    uint8_t tag[32];
    r->st = tresor_hmac_sha256(key->data, key->len, msg->data, msg->len, tag, sizeof tag);
    if (r->st == TRESOR_STATUS_OK) put(r, "tag", tag, sizeof tag);
  } else if (strcmp(op, "hkdf-sha-256") == 0) {
    field *ikm = in(c, "ikm"), *salt = in(c, "salt"), *info = in(c, "info"), *len = in(c, "length");
    size_t n = (size_t)len->num;
    uint8_t *okm = malloc(n ? n : 1);
    REQUIRE(okm != NULL);
    r->st = tresor_hkdf_sha256(salt->data, salt->len, ikm->data, ikm->len, info->data, info->len, okm, n);
    if (r->st == TRESOR_STATUS_OK) put(r, "okm", okm, n);
    free(okm);
  } else if (strcmp(op, "sealed-export-open") == 0) {
    /* The C API opens an export by importing it: into a fresh clear-mode vault. */
    static int n = 0;
    char cfg[700];
    snprintf(cfg, sizeof cfg, "[store]\nurl = \"sqlite://%s/import-%d.db\"\n", tmp, n++);
    tresor_vault_options *o = NULL;
    const tresor_vault *v = NULL;
    REQUIRE(tresor_vault_options_new(&o) == TRESOR_STATUS_OK);
    REQUIRE(tresor_vault_options_set_create(o, true) == TRESOR_STATUS_OK);
    REQUIRE(tresor_vault_open_config(cfg, tmp, o, &v) == TRESOR_STATUS_OK);
    tresor_vault_options_free(o);
    field *file = in(c, "file"), *pw = in(c, "password");
    tresor_fingerprint fp;
    r->st = tresor_vault_import_sealed(v, file->data, file->len, pw->data, pw->len, NULL, &fp);
    if (r->st == TRESOR_STATUS_OK) {
      const tresor_key_list *l = NULL;
      REQUIRE(tresor_vault_list_keys(v, &l) == TRESOR_STATUS_OK && tresor_key_list_len(l) == 1);
      const tresor_key_info *k = tresor_key_list_get(l, 0);
      put_str(r, "fingerprint", tresor_key_info_fingerprint(k));
      put_str(r, "purpose", tresor_key_info_purpose(k));
      put_str(r, "usage", tresor_key_info_usage(k));
      put_str(r, "key_spec", tresor_key_info_spec(k));
      put_str(r, "name", tresor_key_info_name(k));
      tresor_key_list_free(l);
    }
    tresor_vault_free(v);
  } else {
    fprintf(stderr, "operation %s is not run by C but its file does not say so\n", op);
    r->st = TRESOR_STATUS_INTERNAL;
  }
}

/* Compare the produced fields with the expected ones (same names, same values). */
static int same_output(vcase *c, result *r) {
  if (c->n_out != r->n_got) return 0;
  for (int i = 0; i < c->n_out; i++) {
    field *want = &c->out[i];
    field *got = get(r->got, r->n_got, want->name);
    if (!got) return 0;
    if ((want->data == NULL) != (got->data == NULL)) return 0;
    if (want->data == NULL) continue;
    /* Text outputs (fingerprints, names, hex DER) compare as text; bytes as bytes. */
    if (want->len != got->len || memcmp(want->data, got->data, want->len) != 0) return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  REQUIRE(argc == 2);
  FILE *f = fopen(argv[1], "r");
  REQUIRE(f != NULL);
  char *tmp = test_tmpdir("vectors");
  size_t cap = 1 << 22;
  char *line = malloc(cap);
  REQUIRE(line != NULL);
  char op[64] = "", algorithm[96] = "", file[96] = "";
  int skip = 0, files = 0, skipped = 0, cases = 0;
  while (fgets(line, (int)cap, f)) {
    size_t n = strlen(line);
    REQUIRE(n < cap - 1);
    if (n && line[n - 1] == '\n') line[--n] = 0;
    if (line[0] == '#' || n == 0) continue;
    if (strncmp(line, "file ", 5) == 0) {
      char why[4096] = "";
      REQUIRE(sscanf(line, "file %95s %63s %95s %4095s", file, op, algorithm, why) == 4);
      files++;
      skip = strcmp(why, "-") != 0;
      if (skip) {
        field w;
        decode(&w, why);
        printf("vectors: %s: not run by c: %s\n", file, (const char *)w.data);
        free(w.data);
        skipped++;
      }
      continue;
    }
    REQUIRE(strncmp(line, "case ", 5) == 0);
    if (skip) continue;
    vcase c;
    memset(&c, 0, sizeof c);
    char *save = NULL;
    char *tok = strtok_r(line + 5, " ", &save);
    REQUIRE(tok);
    snprintf(c.id, sizeof c.id, "%s", tok);
    tok = strtok_r(NULL, " ", &save);
    REQUIRE(tok);
    snprintf(c.expect, sizeof c.expect, "%s", tok);
    tok = strtok_r(NULL, " ", &save);
    REQUIRE(tok);
    snprintf(c.error_kind, sizeof c.error_kind, "%s", tok);
    while ((tok = strtok_r(NULL, " ", &save))) {
      char *eq = strchr(tok, '=');
      REQUIRE(eq != NULL);
      *eq = 0;
      int is_in = strncmp(tok, "in.", 3) == 0;
      REQUIRE(is_in || strncmp(tok, "out.", 4) == 0);
      field *fl = is_in ? &c.in[c.n_in++] : &c.out[c.n_out++];
      REQUIRE(c.n_in <= MAX_FIELDS && c.n_out <= MAX_FIELDS);
      snprintf(fl->name, sizeof fl->name, "%s", tok + (is_in ? 3 : 4));
      decode(fl, eq + 1);
    }
    result r;
    run(op, algorithm, &c, tmp, &r);
    cases++;
    test_checks++;
    int ok;
    if (strcmp(c.expect, "valid") == 0) {
      ok = r.st == TRESOR_STATUS_OK && same_output(&c, &r);
    } else {
      ok = r.st != TRESOR_STATUS_OK && strcmp(tresor_status_name(r.st), c.error_kind) == 0;
    }
    if (!ok) {
      test_failures++;
      fprintf(stderr, "%s %s: expected %s %s, got %s (%s)\n", file, c.id, c.expect, c.error_kind,
              tresor_status_name(r.st), r.st == TRESOR_STATUS_OK ? "output differs" : last_error());
    }
    for (int i = 0; i < r.n_got; i++) free(r.got[i].data);
    free_case(&c);
  }
  fclose(f);
  free(line);
  free(tmp);
  printf("vectors: c: %d files, %d cases run, %d files not run (reasons above), %d failures\n", files, cases,
         skipped, test_failures);
  test_checks = cases; /* one check per case (the helper macros count their own asserts too) */
  return test_summary("test_vectors");
}
