/*
 * Raw ISA-L throughput, the baseline the Node addon is compared with (bench/codec-bench.ts).
 * Same work as the addon's bench: RS encode 8+2 and 4+2, decode with 1 and 2 lost data stripes
 * (tables prepared once, as the addon caches them), crc32_iscsi and crc32_gzip_refl.
 * Each op: warm-up that also sizes a repetition to ~rep_ms, then `reps` timed repetitions;
 * prints the median GB/s (1 GB = 1e9 bytes; encode/decode count k x chunk bytes) as JSON.
 *
 * Usage: isal-raw [chunk_bytes] [crc_bytes] [reps] [rep_ms] [only]
 *   only: "op:profile:erasures" (e.g. "decode:8+2:1") times just that row, so a caller can
 *   interleave raw and addon runs op by op on a noisy machine.
 * Build: gcc -O2 -o bin/isal-raw isal-raw.c -lisal
 */
#include <isa-l.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*op_fn)(void *ctx);

/* Median GB/s of `reps` repetitions of `fn`, each moving `bytes` per call. */
static double measure(op_fn fn, void *ctx, double bytes, int reps, double rep_ms) {
  long warm = 0;
  double t0 = now_s(), el;
  do {
    fn(ctx);
    warm++;
  } while ((el = now_s() - t0) < 0.1);
  long iters = (long)(warm * (rep_ms / 1000.0) / el);
  if (iters < 1) iters = 1;
  double *gbps = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double s = now_s();
    for (long i = 0; i < iters; i++) fn(ctx);
    gbps[r] = bytes * iters / (now_s() - s) / 1e9;
  }
  qsort(gbps, reps, sizeof(double), cmp_double);
  double med = gbps[reps / 2];
  free(gbps);
  return med;
}

static int reps = 9;
static double rep_ms = 40;
static const char *only = "";
static int printed = 0;

/* Times one op unless filtered out by `only`, and prints its JSON row. */
static void emit(const char *op, const char *profile, int erasures, op_fn fn, void *ctx, double bytes) {
  char key[64];
  snprintf(key, sizeof key, "%s:%s:%d", op, profile, erasures);
  if (only[0] != '\0' && strcmp(only, key) != 0) return;
  double gb = measure(fn, ctx, bytes, reps, rep_ms);
  printf("%s{\"op\":\"%s\",\"profile\":\"%s\",\"erasures\":%d,\"gbps\":%.4f}", printed++ ? ",\n" : "", op,
         profile, erasures, gb);
}

typedef struct {
  int len, k, rows;
  unsigned char *tbls;
  unsigned char **in, **out;
} ec_ctx;

static void run_ec(void *p) {
  ec_ctx *c = p;
  ec_encode_data(c->len, c->k, c->rows, c->tbls, c->in, c->out);
}

typedef struct {
  unsigned char *buf;
  int len;
  unsigned int sink;
} crc_ctx;

static void run_iscsi(void *p) {
  crc_ctx *c = p;
  c->sink ^= crc32_iscsi(c->buf, c->len, 0xFFFFFFFFu);
}

static void run_gzip(void *p) {
  crc_ctx *c = p;
  c->sink ^= crc32_gzip_refl(0, c->buf, (uint64_t)c->len);
}

static unsigned char *chunk(size_t len) {
  void *p = NULL;
  if (posix_memalign(&p, 64, len ? len : 64) != 0) {
    fprintf(stderr, "isal-raw: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < len; i++) ((unsigned char *)p)[i] = (unsigned char)rand();
  return p;
}

/* Encode k+m, then time encode and the decodes of 1 and 2 lost data stripes. */
static void bench_profile(int k, int m, int len) {
  int n = k + m;
  char profile[16];
  snprintf(profile, sizeof profile, "%d+%d", k, m);
  unsigned char *g = malloc((size_t)n * k), *tbls = malloc((size_t)32 * k * m);
  unsigned char *stripe[255];
  for (int i = 0; i < n; i++) stripe[i] = chunk((size_t)len);
  gf_gen_cauchy1_matrix(g, n, k);
  ec_init_tables(k, m, g + k * k, tbls);
  ec_encode_data(len, k, m, tbls, stripe, stripe + k);

  ec_ctx enc = {len, k, m, tbls, stripe, stripe + k};
  emit("encode", profile, 0, run_ec, &enc, (double)k * len);

  for (int lost = 1; lost <= 2 && lost <= m; lost++) {
    /* Sources: the k lowest surviving stripes (lost are 0..lost-1), as the codecs pick them. */
    int src[255];
    for (int i = 0; i < k; i++) src[i] = lost + i;
    unsigned char *sub = malloc((size_t)k * k), *inv = malloc((size_t)k * k), *rows = malloc((size_t)lost * k);
    unsigned char *dtbls = malloc((size_t)32 * k * lost), *in[255], *out[2];
    for (int r = 0; r < k; r++) {
      memcpy(sub + r * k, g + src[r] * k, (size_t)k);
      in[r] = stripe[src[r]];
    }
    if (gf_invert_matrix(sub, inv, k) != 0) {
      fprintf(stderr, "isal-raw: singular matrix\n");
      exit(1);
    }
    for (int w = 0; w < lost; w++) {
      memcpy(rows + w * k, inv + w * k, (size_t)k); /* lost data stripe w: row w of the inverse */
      out[w] = chunk((size_t)len);
    }
    ec_init_tables(k, lost, rows, dtbls);
    ec_ctx dec = {len, k, lost, dtbls, in, out};
    run_ec(&dec);
    for (int w = 0; w < lost; w++) {
      if (memcmp(out[w], stripe[w], (size_t)len) != 0) {
        fprintf(stderr, "isal-raw: decode mismatch\n");
        exit(1);
      }
    }
    emit("decode", profile, lost, run_ec, &dec, (double)k * len);
    for (int w = 0; w < lost; w++) free(out[w]);
    free(sub), free(inv), free(rows), free(dtbls);
  }
  for (int i = 0; i < n; i++) free(stripe[i]);
  free(g), free(tbls);
}

int main(int argc, char **argv) {
  int len = argc > 1 ? atoi(argv[1]) : 1 << 20;
  int crc_len = argc > 2 ? atoi(argv[2]) : 1 << 20;
  if (argc > 3) reps = atoi(argv[3]);
  if (argc > 4) rep_ms = atof(argv[4]);
  if (argc > 5) only = argv[5];
  if (len <= 0 || crc_len <= 0 || reps <= 0 || rep_ms <= 0) {
    fprintf(stderr, "usage: isal-raw [chunk_bytes] [crc_bytes] [reps] [rep_ms] [only]\n");
    return 2;
  }
  printf("{\"isal\":\"%d.%d.%d\",\"chunkBytes\":%d,\"crcBytes\":%d,\"results\":[\n", ISAL_MAJOR_VERSION,
         ISAL_MINOR_VERSION, ISAL_PATCH_VERSION, len, crc_len);
  bench_profile(8, 2, len);
  bench_profile(4, 2, len);
  crc_ctx crc = {chunk((size_t)crc_len), crc_len, 0};
  emit("crc32c", "-", 0, run_iscsi, &crc, crc_len);
  emit("crc32", "-", 0, run_gzip, &crc, crc_len);
  printf("\n],\"sink\":%u}\n", crc.sink);
  free(crc.buf);
  return 0;
}
