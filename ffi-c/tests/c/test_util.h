/* Small assertion helpers shared by the C tests of libtresor. */
#ifndef TRESOR_TEST_UTIL_H
#define TRESOR_TEST_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "tresor.h"

static int test_failures = 0;
static int test_checks = 0;

static inline const char *last_error(void) {
  static _Thread_local char buf[2048];
  size_t n = 0;
  if (tresor_last_error_message(buf, sizeof buf, &n) != TRESOR_STATUS_OK) {
    snprintf(buf, sizeof buf, "(message too long: %zu bytes)", n);
  }
  return buf;
}

/* Expect `expr` to return `want`; on mismatch print both names and the last error. */
#define EXPECT_STATUS(expr, want)                                                              \
  do {                                                                                         \
    tresor_status got_ = (expr);                                                               \
    test_checks++;                                                                             \
    if (got_ != (tresor_status)(want)) {                                                       \
      test_failures++;                                                                         \
      fprintf(stderr, "%s:%d: %s\n  returned %u (%s), expected %u (%s); last error: %s\n",    \
              __FILE__, __LINE__, #expr, (unsigned)got_, tresor_status_name(got_),             \
              (unsigned)(want), tresor_status_name(want), last_error());                       \
    }                                                                                          \
  } while (0)

#define EXPECT_OK(expr) EXPECT_STATUS(expr, TRESOR_STATUS_OK)

/* A condition that must hold. */
#define EXPECT(cond)                                                                           \
  do {                                                                                         \
    test_checks++;                                                                             \
    if (!(cond)) {                                                                             \
      test_failures++;                                                                         \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                      \
    }                                                                                          \
  } while (0)

/* A condition without which the test cannot go on. */
#define REQUIRE(cond)                                                                          \
  do {                                                                                         \
    test_checks++;                                                                             \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: required %s (last error: %s)\n", __FILE__, __LINE__, #cond,      \
              last_error());                                                                   \
      exit(2);                                                                                 \
    }                                                                                          \
  } while (0)

/* The last error message contains `needle`. */
#define EXPECT_ERROR_MENTIONS(needle)                                                          \
  do {                                                                                         \
    test_checks++;                                                                             \
    if (strstr(last_error(), (needle)) == NULL) {                                              \
      test_failures++;                                                                         \
      fprintf(stderr, "%s:%d: last error \"%s\" does not mention \"%s\"\n", __FILE__,          \
              __LINE__, last_error(), (needle));                                               \
    }                                                                                          \
  } while (0)

/* The number of threads of this process. */
static inline int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return 1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n;
}

/* Every handle is freed by now, so the library's threads are ending: wait (at most 5 s) until they
 * are gone before the process exits. The SQLite connection threads finish closing a few
 * milliseconds after tresor_vault_free returns; exiting in that window makes Valgrind report their
 * memory as "possibly lost" although nothing leaks. */
static inline void wait_for_library_threads(void) {
  struct timespec ten_ms = {0, 10 * 1000 * 1000};
  for (int i = 0; i < 500 && thread_count() > 1; i++) nanosleep(&ten_ms, NULL);
  if (thread_count() > 1) {
    test_failures++;
    fprintf(stderr, "%d library threads still running 5 s after every handle was freed\n", thread_count() - 1);
  }
}

static inline int test_summary(const char *name) {
  wait_for_library_threads();
  if (test_failures) {
    fprintf(stderr, "%s: %d of %d checks FAILED\n", name, test_failures, test_checks);
    return 1;
  }
  printf("%s: all %d checks passed\n", name, test_checks);
  return 0;
}

/* A fresh temporary directory for one test (mkdtemp under $TMPDIR or /tmp). */
static inline char *test_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char *dir = malloc(512);
  snprintf(dir, 512, "%s/tresor-c-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
  return dir;
}

/* Write a software-KMS master key file (32 random bytes as hex) at `path`. */
static inline void write_key_file(const char *path) {
  uint8_t key[32];
  if (tresor_random_bytes(key, sizeof key) != TRESOR_STATUS_OK) exit(2);
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(2);
  }
  for (size_t i = 0; i < sizeof key; i++) fprintf(f, "%02x", key[i]);
  fputc('\n', f);
  fclose(f);
  chmod(path, 0600);
  memset(key, 0, sizeof key);
}

#endif
