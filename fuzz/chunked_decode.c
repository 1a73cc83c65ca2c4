/*
 * libFuzzer harness for `chunked.decode` (wit/tophat.wit). The fuzz input is a chunked
 * body (what follows a head with `Transfer-Encoding: chunked`). It is decoded from the
 * initial state in one call, and again fed in three pieces cut at hash-chosen points the
 * way a host does it: each call gets the bytes the previous one did not consume followed
 * by the next piece, and the state the previous call returned; feeding stops at `done`.
 * Under the default limits and under tight hash-derived ones, it checks:
 *
 *  - no trap, and the result lifts (core.h aborts otherwise);
 *  - progress: consumed <= the bytes given; every data span and trailer span inside the
 *    consumed bytes; invalid: the status the WIT documents for the reason (431 for the
 *    trailer limits, 400 otherwise), offset <= the bytes given;
 *  - the piecewise outcome equals the whole one: the same rejection (reason, status,
 *    absolute offset), or the same total consumed, the same final state, the same data
 *    bytes (absolute ranges, adjacent ones merged: a chunk may arrive in two calls) and
 *    the same trailers (absolute spans).
 */
#include "core.h"

static size_t g_len;

static void violated(const char *what, const char *limits, uint32_t a, uint32_t b) {
  fprintf(stderr, "\n*** INVARIANT VIOLATED (chunked.decode, %s limits, cuts %u %u of %zu bytes): %s\n",
          limits, a, b, g_len, what);
  abort();
}

/* What a sequence of calls decoded, in absolute offsets into the input. */
typedef struct {
  int invalid;
  th_rejection rejection;
  uint32_t consumed;
  th_chunked_state state;
  th_span data[4096];
  uint32_t data_count;
  th_header trailers[1024];
  uint32_t trailer_count;
  int overflow;
} result;

static void add_data(result *r, th_span s) {
  if (s.len == 0) return;
  if (r->data_count > 0) {
    th_span *last = &r->data[r->data_count - 1];
    if (last->start + last->len == s.start) { last->len += s.len; return; }
  }
  if (r->data_count == 4096) { r->overflow = 1; return; }
  r->data[r->data_count++] = s;
}

static th_span shift(th_span s, uint32_t by) { s.start += by; return s; }

static int inside(th_span s, uint64_t end) { return (uint64_t)s.start + s.len <= end; }

/* Feeds data[0, cuts[i]) for each cut in turn (the last cut is the whole input); cuts has
 * at least two entries. */
static void feed(const uint8_t *data, const uint32_t *cuts, int ncuts, th_limits l, const char *ln,
                 result *r) {
  th_chunked_state s = {TH_SIZE_LINE, 0, 0, 0};
  uint32_t base = 0;
  memset(r, 0, sizeof *r);
  for (int i = 0; i < ncuts && s.phase != TH_DONE; i++) {
    if (cuts[i] < base) continue; /* the previous call left nothing to add to */
    uint32_t n = cuts[i] - base;
    th_decode d;
    th_decode_chunked(data + base, n, s, l, &d);
    if (d.tag == 1) {
      if (d.rejection.status != th_documented_status(d.rejection.reason))
        violated("rejection status differs from the one its reason documents", ln, cuts[0], cuts[1]);
      if (d.rejection.offset > n) violated("rejection offset beyond the bytes given", ln, cuts[0], cuts[1]);
      r->invalid = 1;
      r->rejection = d.rejection;
      r->rejection.offset += base;
      th_decode_free(&d);
      return;
    }
    if (d.consumed > n) violated("consumed more bytes than given", ln, cuts[0], cuts[1]);
    for (uint32_t j = 0; j < d.data_count; j++) {
      if (!inside(d.data[j], d.consumed)) violated("a data span outside the consumed bytes", ln, cuts[0], cuts[1]);
      add_data(r, shift(d.data[j], base));
    }
    for (uint32_t j = 0; j < d.trailer_count; j++) {
      th_header t = d.trailers[j];
      if (!inside(t.name, d.consumed) || !inside(t.value, d.consumed))
        violated("a trailer span outside the consumed bytes", ln, cuts[0], cuts[1]);
      if (r->trailer_count == 1024) { r->overflow = 1; continue; }
      t.name = shift(t.name, base);
      t.value = shift(t.value, base);
      r->trailers[r->trailer_count++] = t;
    }
    base += d.consumed;
    s = d.state;
    th_decode_free(&d);
  }
  r->consumed = base;
  r->state = s;
}

/* F1 (fuzz/RESULTS.md, fuzz/regressions/chunked_decode--extension-too-long-offset): the
 * offset of `chunk-extension-too-long` used to depend on how many bytes were given; fixed
 * in the core (it is now the first byte past the limit), so every offset must agree. */

static int same(const result *a, const result *b) {
  if (a->invalid != b->invalid) return 0;
  if (a->invalid)
    return a->rejection.reason == b->rejection.reason && a->rejection.status == b->rejection.status &&
           a->rejection.offset == b->rejection.offset;
  if (a->consumed != b->consumed || a->state.phase != b->state.phase ||
      a->state.remaining != b->state.remaining || a->state.trailer_bytes != b->state.trailer_bytes ||
      a->state.trailer_count != b->state.trailer_count || a->data_count != b->data_count ||
      a->trailer_count != b->trailer_count)
    return 0;
  for (uint32_t i = 0; i < a->data_count; i++)
    if (a->data[i].start != b->data[i].start || a->data[i].len != b->data[i].len) return 0;
  for (uint32_t i = 0; i < a->trailer_count; i++) {
    const th_header *x = &a->trailers[i], *y = &b->trailers[i];
    if (x->name.start != y->name.start || x->name.len != y->name.len ||
        x->value.start != y->value.start || x->value.len != y->value.len)
      return 0;
  }
  return 1;
}

static result g_whole, g_pieces;

static void run(const uint8_t *data, uint32_t len, th_limits l, const char *ln, uint64_t hash) {
  uint32_t whole_cut[2] = {len, len}; /* one call; two entries for violated()'s report */
  feed(data, whole_cut, 1, l, ln, &g_whole);
  uint32_t a = (uint32_t)(hash % (len + 1)), b = (uint32_t)((hash >> 32) % (len + 1));
  uint32_t cuts[3] = {a < b ? a : b, a < b ? b : a, len};
  feed(data, cuts, 3, l, ln, &g_pieces);
  if (g_whole.overflow || g_pieces.overflow) return; /* more spans than this harness keeps */
  if (!same(&g_whole, &g_pieces)) {
    fprintf(stderr, "whole: %s reason %u offset %u consumed %u phase %u remaining %llu data %u trailers %u\n",
            g_whole.invalid ? "invalid" : "progress", g_whole.rejection.reason, g_whole.rejection.offset,
            g_whole.consumed, g_whole.state.phase, (unsigned long long)g_whole.state.remaining,
            g_whole.data_count, g_whole.trailer_count);
    fprintf(stderr, "pieces: %s reason %u offset %u consumed %u phase %u remaining %llu data %u trailers %u\n",
            g_pieces.invalid ? "invalid" : "progress", g_pieces.rejection.reason, g_pieces.rejection.offset,
            g_pieces.consumed, g_pieces.state.phase, (unsigned long long)g_pieces.state.remaining,
            g_pieces.data_count, g_pieces.trailer_count);
    violated("decoding in pieces (state carried) differs from decoding the whole", ln, cuts[0], cuts[1]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  th_init();
  g_len = size;
  uint64_t hash = 1469598103934665603ull; /* FNV-1a: deterministic per input */
  for (size_t i = 0; i < size; i++) hash = (hash ^ data[i]) * 1099511628211ull;

  th_limits defaults = {16384, 100, 8192, 1024};
  run(data, (uint32_t)size, defaults, "default", hash);
  th_limits tight = {(uint32_t)((hash >> 8) % (size + 16)), (uint32_t)((hash >> 24) % 8),
                     (uint32_t)((hash >> 32) % 48), (uint32_t)((hash >> 40) % 32)};
  run(data, (uint32_t)size, tight, "tight", hash * 0x9E3779B97F4A7C15ull);
  return 0;
}
