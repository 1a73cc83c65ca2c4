/*
 * corpus: the C binding's conformance tool. Reads one call per line on stdin, makes it
 * through tophat.h, and prints its outcome as one JSON line in the shape the JS tests
 * normalize the thin binding's outcomes to (test/support/normalize.ts), so the two can
 * be compared case by case (test/binding-c.test.ts).
 *
 * Input lines (space-separated; BYTES is `x` followed by hex, `x` alone for none;
 * OPT is `-` for none, else BYTES or a number):
 *   parse MAX_HEAD MAX_HEADERS MAX_TARGET MAX_EXT BYTES
 *   decode PHASE REMAINING TRAILER_BYTES TRAILER_COUNT MAX_HEAD MAX_HEADERS MAX_TARGET MAX_EXT BYTES
 *   frame STATUS REASON:OPT BODY_LENGTH:OPT HEAD HTTP10 CLOSE DATE:OPT N (NAME VALUE)*N
 *   chunk-size-line SIZE
 *   last-chunk N (NAME VALUE)*N
 *   may-end FROM BYTES                 -> true | false (th_may_end_head)
 * PHASE is a phase name (size-line, ...). A call that trapped prints
 * {"trapped":"<what>","restarts":N}; any other failure {"error":"<th_result name>"}.
 */
/* getline is POSIX. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tophat.h"

static char *line;
static size_t line_cap;
static char *cursor; /* the rest of the current line */

static void fail(const char *what) {
  fprintf(stderr, "corpus: %s\n", what);
  exit(2);
}

static char *token(void) {
  while (*cursor == ' ') cursor++;
  if (*cursor == '\0') fail("a line ends early");
  char *start = cursor;
  while (*cursor != ' ' && *cursor != '\0') cursor++;
  if (*cursor == ' ') *cursor++ = '\0';
  return start;
}

static unsigned long long number(void) {
  char *t = token(), *end;
  unsigned long long v = strtoull(t, &end, 10);
  if (*end != '\0') fail("not a number");
  return v;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  fail("not hex");
  return 0;
}

/* Decodes a BYTES token in place (the bytes replace its hex); returns its length. */
static size_t bytes_in_place(char *t, char **out) {
  if (t[0] != 'x') fail("bytes must start with x");
  size_t n = strlen(t + 1);
  if (n % 2) fail("odd hex length");
  unsigned char *b = (unsigned char *)t;
  for (size_t i = 0; i < n / 2; i++) b[i] = (unsigned char)(hexval(t[1 + 2 * i]) * 16 + hexval(t[2 + 2 * i]));
  *out = t;
  return n / 2;
}

static size_t bytes_arg(char **out) { return bytes_in_place(token(), out); }

/* ---- JSON ---------------------------------------------------------------------------- */

static void json_bytes(const void *p, size_t n) {
  const unsigned char *b = p;
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = b[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c); /* latin1: one char per byte */
    else putchar(c);
  }
  putchar('"');
}

/* A u64 as the tests normalize it: a number up to 2^53 - 1, else a decimal string. */
static void json_u64(uint64_t v) {
  if (v <= 9007199254740991ull) printf("%llu", (unsigned long long)v);
  else printf("\"%llu\"", (unsigned long long)v);
}

static void json_span(th_span s) { printf("{\"start\":%u,\"len\":%u}", s.start, s.len); }

static void json_headers(const th_header *h, uint32_t n) {
  putchar('[');
  for (uint32_t i = 0; i < n; i++) {
    printf(i ? ",{\"name\":" : "{\"name\":");
    json_span(h[i].name);
    printf(",\"value\":");
    json_span(h[i].value);
    putchar('}');
  }
  putchar(']');
}

static void json_rejection(th_rejection r) {
  printf("{\"tag\":\"invalid\",\"val\":{\"reason\":\"%s\",\"status\":%u,\"offset\":%u}}",
         th_reject_reason_name(r.reason), r.status, r.offset);
}

static void json_frame_error(th_frame_error e) {
  printf("{\"tag\":\"invalid\",\"val\":{\"reason\":\"%s\",\"headerIndex\":", th_frame_error_reason_name(e.reason));
  if (e.has_header_index) printf("%u}}", e.header_index);
  else printf("null}}");
}

static void json_failure(th_core *core, th_result r) {
  if (r == TH_TRAPPED) {
    printf("{\"trapped\":");
    const char *what = th_core_last_trap(core);
    json_bytes(what, strlen(what));
    printf(",\"restarts\":%u}", th_core_restarts(core));
  } else {
    printf("{\"error\":\"%s\"}", th_result_name(r));
  }
}

/* ---- the calls ---------------------------------------------------------------------- */

static th_limits limits_arg(void) {
  th_limits l;
  l.max_head_bytes = (uint32_t)number();
  l.max_headers = (uint32_t)number();
  l.max_target_length = (uint32_t)number();
  l.max_chunk_extension_length = (uint32_t)number();
  return l;
}

static void parse(th_core *core, th_parse_result *r) {
  th_limits l = limits_arg();
  char *b;
  size_t n = bytes_arg(&b);
  th_result res = th_parse_head(core, b, n, &l, r);
  if (res == TH_INCOMPLETE) {
    printf("{\"tag\":\"incomplete\",\"val\":%u}", r->search_from);
  } else if (res == TH_INVALID) {
    json_rejection(r->rejection);
  } else if (res == TH_COMPLETE) {
    const th_request_head *h = &r->head;
    printf("{\"tag\":\"complete\",\"val\":{\"method\":");
    json_span(h->method);
    printf(",\"target\":");
    json_span(h->target);
    printf(",\"path\":");
    json_span(h->path);
    printf(",\"query\":");
    if (h->has_query) json_span(h->query);
    else printf("null");
    printf(",\"authority\":");
    if (h->has_authority) json_span(h->authority);
    else printf("null");
    printf(",\"version\":\"%s\",\"headers\":", th_http_version_name(h->version));
    json_headers(h->headers, h->header_count);
    printf(",\"headLength\":%u,\"body\":{\"tag\":\"%s\"", h->head_length, th_body_framing_name(h->body));
    if (h->body == TH_BODY_CONTENT_LENGTH) {
      printf(",\"val\":");
      json_u64(h->content_length);
    }
    printf("},\"keepAlive\":%s,\"expectContinue\":%s,\"upgrade\":%s}}", h->keep_alive ? "true" : "false",
           h->expect_continue ? "true" : "false", h->upgrade ? "true" : "false");
  } else {
    json_failure(core, res);
  }
}

static th_chunked_phase phase_arg(void) {
  char *t = token();
  for (int p = TH_PHASE_SIZE_LINE; p <= TH_PHASE_DONE; p++)
    if (strcmp(t, th_chunked_phase_name((th_chunked_phase)p)) == 0) return (th_chunked_phase)p;
  fail("unknown phase");
  return TH_PHASE_SIZE_LINE;
}

static void decode(th_core *core, th_decode_result *r) {
  th_chunked_state s;
  s.phase = phase_arg();
  s.remaining = number();
  s.trailer_bytes = (uint32_t)number();
  s.trailer_count = (uint32_t)number();
  th_limits l = limits_arg();
  char *b;
  size_t n = bytes_arg(&b);
  th_result res = th_decode_chunked(core, b, n, &s, &l, r);
  if (res == TH_INVALID) {
    json_rejection(r->rejection);
  } else if (res == TH_OK) {
    printf("{\"tag\":\"progress\",\"val\":{\"consumed\":%u,\"data\":[", r->consumed);
    for (uint32_t i = 0; i < r->data_count; i++) {
      if (i) putchar(',');
      json_span(r->data[i]);
    }
    printf("],\"trailers\":");
    json_headers(r->trailers, r->trailer_count);
    printf(",\"state\":{\"phase\":\"%s\",\"remaining\":", th_chunked_phase_name(r->state.phase));
    json_u64(r->state.remaining);
    printf(",\"trailerBytes\":%u,\"trailerCount\":%u}}}", r->state.trailer_bytes, r->state.trailer_count);
  } else {
    json_failure(core, res);
  }
}

/* N pairs of BYTES tokens; the array is malloc'd (free it), the strings are in `line`. */
static th_field *fields_arg(size_t *count) {
  *count = (size_t)number();
  th_field *f = calloc(*count ? *count : 1, sizeof *f);
  if (f == NULL) fail("out of memory");
  for (size_t i = 0; i < *count; i++) {
    char *p;
    f[i].name_len = bytes_arg(&p);
    f[i].name = p;
    f[i].value_len = bytes_arg(&p);
    f[i].value = p;
  }
  return f;
}

static void frame(th_core *core, th_framed_head *r) {
  th_response_head head = {0};
  head.status = (uint16_t)number();
  char *t = token();
  if (strcmp(t, "-") != 0) {
    char *p;
    head.reason_len = bytes_in_place(t, &p);
    head.reason = p;
  }
  t = token();
  if (strcmp(t, "-") != 0) {
    head.has_body_length = true;
    head.body_length = strtoull(t, NULL, 10);
  }
  th_request_context ctx;
  ctx.head = number() != 0;
  ctx.http10 = number() != 0;
  ctx.close = number() != 0;
  ctx.connect = number() != 0;
  char *date = NULL;
  size_t date_len = 0;
  t = token();
  if (strcmp(t, "-") != 0) date_len = bytes_in_place(t, &date);
  size_t count;
  th_field *fields = fields_arg(&count);
  head.headers = fields;
  head.header_count = count;
  th_result res = th_frame_head(core, &head, &ctx, date, date_len, r);
  free(fields);
  if (res == TH_INVALID) {
    json_frame_error(r->error);
  } else if (res == TH_OK) {
    printf("{\"tag\":\"head\",\"val\":{\"bytes\":");
    json_bytes(r->bytes, r->len);
    printf(",\"body\":\"%s\",\"contentLength\":", th_body_mode_name(r->body));
    json_u64(r->content_length);
    printf(",\"close\":%s}}", r->close ? "true" : "false");
  } else {
    json_failure(core, res);
  }
}

static void chunk_size_line(th_core *core, th_wire *w) {
  th_result res = th_chunk_size_line(core, number(), w);
  if (res == TH_OK) json_bytes(w->bytes, w->len);
  else json_failure(core, res);
}

static void last_chunk(th_core *core, th_wire *w) {
  size_t count;
  th_field *fields = fields_arg(&count);
  th_result res = th_last_chunk(core, fields, count, w);
  free(fields);
  if (res == TH_OK) {
    printf("{\"tag\":\"bytes\",\"val\":");
    json_bytes(w->bytes, w->len);
    putchar('}');
  } else if (res == TH_INVALID) {
    json_frame_error(w->error);
  } else {
    json_failure(core, res);
  }
}

int main(void) {
  th_core *core = th_core_new();
  if (core == NULL) fail("th_core_new failed");
  /* One result struct of each kind for the whole run: the binding reuses their arrays. */
  th_parse_result parsed = {0};
  th_decode_result decoded = {0};
  th_framed_head framed = {0};
  th_wire wire = {0};
  ssize_t n;
  while ((n = getline(&line, &line_cap, stdin)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
    if (n == 0) continue;
    cursor = line;
    char *cmd = token();
    if (strcmp(cmd, "parse") == 0) parse(core, &parsed);
    else if (strcmp(cmd, "decode") == 0) decode(core, &decoded);
    else if (strcmp(cmd, "frame") == 0) frame(core, &framed);
    else if (strcmp(cmd, "chunk-size-line") == 0) chunk_size_line(core, &wire);
    else if (strcmp(cmd, "last-chunk") == 0) last_chunk(core, &wire);
    else if (strcmp(cmd, "may-end") == 0) {
      size_t from = (size_t)number();
      char *b;
      size_t len = bytes_arg(&b);
      printf(th_may_end_head(b, len, from) ? "true" : "false");
    } else fail("unknown command");
    putchar('\n');
  }
  if (ferror(stdin)) fail("reading stdin failed");
  th_parse_result_free(&parsed);
  th_decode_result_free(&decoded);
  th_framed_head_free(&framed);
  th_wire_free(&wire);
  th_core_free(core);
  free(line);
  return fflush(stdout) == 0 ? 0 : 1;
}
