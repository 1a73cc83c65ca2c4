/*
 * libFuzzer harness for `parser.parse-head` (wit/tophat.wit). The fuzz input is the byte
 * buffer handed to the core. Each input is parsed under the suggested default limits and
 * under tight limits derived from a hash of the input, and every outcome is checked:
 *
 *  - no trap, and the result lifts (core.h aborts otherwise);
 *  - complete: every span lies inside the head (so inside the input); head-length <= the
 *    input length and <= max-head-bytes; headers <= max-headers; target <= max-target-length;
 *    content-length <= 2^53 - 1;
 *  - complete: re-parsing exactly the first head-length bytes gives the same complete
 *    result, and the input cut one byte before the head's end is `incomplete`;
 *  - invalid: the status is the one the WIT documents for the reason; offset <= input length;
 *  - a prefix (cut at a hash-chosen point) agrees with the whole: a prefix of a complete
 *    head's input is incomplete (before head-length) or the same head (from head-length on);
 *    a prefix of an incomplete input is incomplete; a prefix of an invalid input is not
 *    complete (it would be a head, and bytes after a head are not looked at).
 */
#include "core.h"

static const uint8_t *g_data;
static size_t g_len;

static void violated(const char *what, const char *limits, uint32_t at) {
  fprintf(stderr, "\n*** INVARIANT VIOLATED (parse-head, %s limits, prefix %u of %zu bytes): %s\n",
          limits, at, g_len, what);
  abort();
}

static int inside(th_span s, uint64_t end) { return (uint64_t)s.start + s.len <= end; }

static void check(const th_parse *p, uint32_t len, th_limits l, const char *ln) {
  if (p->tag == TH_INVALID) {
    if (p->rejection.status != th_documented_status(p->rejection.reason))
      violated("rejection status differs from the one its reason documents", ln, len);
    if (p->rejection.offset > len) violated("rejection offset beyond the input", ln, len);
    return;
  }
  if (p->tag != TH_COMPLETE) return;
  uint32_t h = p->head_length;
  if (h == 0 || h > len) violated("head-length is 0 or beyond the input", ln, len);
  if (h > l.max_head_bytes) violated("head-length above max-head-bytes", ln, len);
  if (p->header_count > l.max_headers) violated("more headers than max-headers", ln, len);
  if (p->target.len > l.max_target_length) violated("target longer than max-target-length", ln, len);
  if (p->body == TH_BODY_LENGTH && p->content_length > 0x1FFFFFFFFFFFFFull)
    violated("content-length above 2^53 - 1", ln, len);
  int ok = inside(p->method, h) && inside(p->target, h) && inside(p->path, h) &&
           (!p->has_query || inside(p->query, h)) && (!p->has_authority || inside(p->authority, h));
  for (uint32_t i = 0; ok && i < p->header_count; i++)
    ok = inside(p->headers[i].name, h) && inside(p->headers[i].value, h);
  if (!ok) violated("a span lies outside the head (or the input)", ln, len);
}

static int same_span(th_span a, th_span b) { return a.start == b.start && a.len == b.len; }

static int same_head(const th_parse *a, const th_parse *b) {
  if (a->tag != TH_COMPLETE || b->tag != TH_COMPLETE) return 0;
  if (!same_span(a->method, b->method) || !same_span(a->target, b->target) ||
      !same_span(a->path, b->path) || a->has_query != b->has_query ||
      a->has_authority != b->has_authority || (a->has_query && !same_span(a->query, b->query)) ||
      (a->has_authority && !same_span(a->authority, b->authority)) || a->version != b->version ||
      a->header_count != b->header_count || a->head_length != b->head_length || a->body != b->body ||
      a->content_length != b->content_length || a->keep_alive != b->keep_alive ||
      a->expect_continue != b->expect_continue || a->upgrade != b->upgrade)
    return 0;
  for (uint32_t i = 0; i < a->header_count; i++)
    if (!same_span(a->headers[i].name, b->headers[i].name) ||
        !same_span(a->headers[i].value, b->headers[i].value))
      return 0;
  return 1;
}

static void parse_checked(uint32_t len, th_limits l, const char *ln, th_parse *out) {
  th_parse_head(g_data, len, l, out);
  check(out, len, l, ln);
}

static void run(th_limits l, const char *ln, uint64_t hash) {
  uint32_t len = (uint32_t)g_len;
  th_parse whole, again;
  parse_checked(len, l, ln, &whole);

  if (whole.tag == TH_COMPLETE) {
    uint32_t h = whole.head_length;
    parse_checked(h, l, ln, &again);
    if (!same_head(&whole, &again)) violated("the head's own bytes do not parse to the same head", ln, h);
    th_parse_free(&again);
    parse_checked(h - 1, l, ln, &again);
    if (again.tag != TH_INCOMPLETE) violated("the head cut one byte short is not incomplete", ln, h - 1);
    th_parse_free(&again);
  }

  if (len > 0) {
    uint32_t k = (uint32_t)(hash % len);
    parse_checked(k, l, ln, &again);
    switch (whole.tag) {
      case TH_COMPLETE:
        if (k < whole.head_length ? again.tag != TH_INCOMPLETE : !same_head(&whole, &again))
          violated("a prefix disagrees with the complete head", ln, k);
        break;
      case TH_INCOMPLETE:
        if (again.tag != TH_INCOMPLETE) violated("a prefix of an incomplete input is not incomplete", ln, k);
        break;
      default:
        if (again.tag == TH_COMPLETE) violated("a prefix of an invalid input is a complete head", ln, k);
    }
    th_parse_free(&again);
  }
  th_parse_free(&whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  th_init();
  g_data = data;
  g_len = size;
  uint64_t hash = 1469598103934665603ull; /* FNV-1a: deterministic per input */
  for (size_t i = 0; i < size; i++) hash = (hash ^ data[i]) * 1099511628211ull;

  th_limits defaults = {16384, 100, 8192, 1024};
  run(defaults, "default", hash);
  th_limits tight = {(uint32_t)((hash >> 8) % (size + 16)), (uint32_t)((hash >> 24) % 8),
                     (uint32_t)((hash >> 32) % 48), (uint32_t)((hash >> 40) % 32)};
  run(tight, "tight", hash >> 16);
  return 0;
}
