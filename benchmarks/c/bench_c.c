/* The C side of the C-API benchmark (benchmarks/c_api.sh): the same operations as
 * tresor-c-ref-bench measures in Rust, through libtresor's C functions. Prints one line per operation:
 * "<name> <ns per op>" (the median of the batches). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tresor.h"

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define BATCHES 9

static void die(const char *what, tresor_status s) {
  char msg[512];
  tresor_last_error_message(msg, sizeof msg, NULL);
  fprintf(stderr, "bench_c: %s: %s (%s)\n", what, msg, tresor_status_name(s));
  exit(1);
}

static const uint8_t MSG[32] = "benchmark message, 32 bytes long";

struct ctx {
  const tresor_private_key *sk;
  const tresor_public_key *pk;
  tresor_bytes sig;
  const tresor_vault *vault;
  tresor_fingerprint fp;
};

static void op_verify(struct ctx *c) {
  tresor_status s = tresor_public_key_verify(c->pk, NULL, MSG, sizeof MSG, c->sig.data, c->sig.len);
  if (s != TRESOR_STATUS_OK) die("verify", s);
}

static void op_sign(struct ctx *c) {
  tresor_bytes sig = {0};
  tresor_status s = tresor_private_key_sign(c->sk, NULL, MSG, sizeof MSG, &sig);
  if (s != TRESOR_STATUS_OK) die("sign", s);
  tresor_bytes_free(&sig);
}

static void op_vault_sign(struct ctx *c) {
  tresor_bytes sig = {0};
  tresor_status s = tresor_vault_sign(c->vault, c->fp.hex, "protocol", NULL, MSG, sizeof MSG, &sig);
  if (s != TRESOR_STATUS_OK) die("vault sign", s);
  tresor_bytes_free(&sig);
}

static void measure(const char *name, void (*op)(struct ctx *), struct ctx *c, long iters) {
  for (long i = 0; i < iters / 4; i++) op(c); /* warm-up */
  double per[BATCHES];
  for (int b = 0; b < BATCHES; b++) {
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) op(c);
    per[b] = (now_ns() - t0) / (double)iters;
  }
  qsort(per, BATCHES, sizeof *per, cmp);
  printf("%s %.1f\n", name, per[BATCHES / 2]);
  fflush(stdout);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  const char *dir = argc > 2 ? argv[2] : ".";
  const char *specs[] = {"ec-curve-25519", "ec-p-256"};
  const char *names[] = {"ed25519", "p256"};
  const long iters[] = {2000, 1000};
  for (int k = 0; k < 2; k++) {
    struct ctx c = {0};
    tresor_status s = tresor_private_key_generate(specs[k], &c.sk);
    if (s != TRESOR_STATUS_OK) die("generate", s);
    if ((s = tresor_private_key_public_key(c.sk, &c.pk)) != TRESOR_STATUS_OK) die("public key", s);
    if ((s = tresor_private_key_sign(c.sk, NULL, MSG, sizeof MSG, &c.sig)) != TRESOR_STATUS_OK) die("sign", s);

    char config[600];
    snprintf(config, sizeof config, "[store]\nurl = \"sqlite://bench-c-%s.db\"\n", names[k]);
    tresor_vault_options *o = NULL;
    tresor_vault_options_new(&o);
    tresor_vault_options_set_create(o, true);
    if ((s = tresor_vault_open_config(config, dir, o, &c.vault)) != TRESOR_STATUS_OK) die("open", s);
    tresor_vault_options_free(o);
    if ((s = tresor_vault_generate_signing_key(c.vault, specs[k], "protocol", NULL, &c.fp)) != TRESOR_STATUS_OK)
      die("vault generate", s);

    char label[64];
    snprintf(label, sizeof label, "%s_verify", names[k]);
    measure(label, op_verify, &c, iters[k] * scale);
    snprintf(label, sizeof label, "%s_sign", names[k]);
    measure(label, op_sign, &c, iters[k] * scale);
    snprintf(label, sizeof label, "%s_vault_sign", names[k]);
    measure(label, op_vault_sign, &c, iters[k] * scale);

    tresor_bytes_free(&c.sig);
    tresor_public_key_free(c.pk);
    tresor_private_key_free(c.sk);
    tresor_vault_free(c.vault);
  }
  return 0;
}
