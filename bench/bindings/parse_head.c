/*
 * Per-call cost of th_parse_head (the C binding over wasm2c's C of the scalar core) on
 * the requests named on the command line (files holding one request head each). Prints
 * one JSON line per request: {"file": ..., "ns": median ns per call}. Built and run by
 * bench/core-bindings.js; a benchmark, not a test.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tophat.h"

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const int rounds = 7;
  th_core *core = th_core_new();
  th_parse_result r = {0};
  th_limits limits = th_limits_default();
  for (int f = 1; f < argc; f++) {
    FILE *in = fopen(argv[f], "rb");
    if (!in) { perror(argv[f]); return 1; }
    static unsigned char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, in);
    fclose(in);
    if (th_parse_head(core, buf, len, &limits, &r) != TH_COMPLETE) { fprintf(stderr, "%s: not a complete head\n", argv[f]); return 1; }
    /* Calibrate to ~300 ms per round. */
    long n = 1000;
    for (;;) {
      double t0 = now_ns();
      for (long i = 0; i < n; i++) th_parse_head(core, buf, len, &limits, &r);
      double dt = now_ns() - t0;
      if (dt > 3e7) { n = (long)(n * 3e8 / dt); break; }
      n *= 4;
    }
    double samples[7];
    for (int k = 0; k < rounds; k++) {
      double t0 = now_ns();
      for (long i = 0; i < n; i++) th_parse_head(core, buf, len, &limits, &r);
      samples[k] = (now_ns() - t0) / (double)n;
    }
    qsort(samples, rounds, sizeof samples[0], cmp);
    printf("{\"file\": \"%s\", \"ns\": %.1f}\n", argv[f], samples[rounds / 2]);
  }
  th_parse_result_free(&r);
  th_core_free(core);
  return 0;
}
