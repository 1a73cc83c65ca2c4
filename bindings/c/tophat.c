/*
 * tophat.c: the C API of tophat.h over wasm2c's C of the scalar core module
 * (dist/tophat-http.scalar.core.wasm, compiled by the Makefile into tophat_core.c).
 *
 * This is the only file that knows the core's canonical ABI: the flattened parameters,
 * the return-area layouts (written out in wit/tophat.wit's types and read the same way
 * by host/core/binding.ts), cabi_realloc for inputs, and the post-return call after each
 * export, which resets the core's arena. Results are copied out of the core's memory into
 * the caller's result struct before the post-return call, so nothing handed out points
 * into wasm memory.
 *
 * Traps: each public function arms wasm2c's unwind target (wasm_rt_impl_try, a setjmp)
 * in its own frame before it calls into the core; a trap longjmps back there, the
 * instance is freed and made again, and the call returns TH_TRAPPED. A result a
 * component host would refuse to lift (a discriminant outside its type, a list outside
 * memory) is handled the same way: this binding raises a trap itself.
 */
/* gmtime_r is POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "tophat.h"

#include <stdlib.h>
#include <string.h>

#include "tophat_core.h" /* generated: wasm2c -n tophat */
#include "wasm-rt-impl.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tophat.c reads the core's little-endian memory directly: little-endian hosts only"
#endif

/* The core's exports (wasm2c mangles the component names: Z3A ':', Z2F '/', Z40 '@',
 * Z2E '.', Z23 '#', Z2D '-'). */
#define X_REALLOC Z_tophatZ_cabi_realloc
#define X_PARSE_HEAD Z_tophatZ_tophatZ3AhttpZ2FparserZ400Z2E2Z2E0Z23parseZ2Dhead
#define X_POST_PARSE_HEAD Z_tophatZ_cabi_post_tophatZ3AhttpZ2FparserZ400Z2E2Z2E0Z23parseZ2Dhead
#define X_DECODE Z_tophatZ_tophatZ3AhttpZ2FchunkedZ400Z2E2Z2E0Z23decode
#define X_POST_DECODE Z_tophatZ_cabi_post_tophatZ3AhttpZ2FchunkedZ400Z2E2Z2E0Z23decode
#define X_FRAME_HEAD Z_tophatZ_tophatZ3AhttpZ2FframerZ400Z2E2Z2E0Z23frameZ2Dhead
#define X_POST_FRAME_HEAD Z_tophatZ_cabi_post_tophatZ3AhttpZ2FframerZ400Z2E2Z2E0Z23frameZ2Dhead
#define X_CHUNK_SIZE_LINE Z_tophatZ_tophatZ3AhttpZ2FframerZ400Z2E2Z2E0Z23chunkZ2DsizeZ2Dline
#define X_POST_CHUNK_SIZE_LINE Z_tophatZ_cabi_post_tophatZ3AhttpZ2FframerZ400Z2E2Z2E0Z23chunkZ2DsizeZ2Dline
#define X_LAST_CHUNK Z_tophatZ_tophatZ3AhttpZ2FframerZ400Z2E2Z2E0Z23lastZ2Dchunk
#define X_POST_LAST_CHUNK Z_tophatZ_cabi_post_tophatZ3AhttpZ2FframerZ400Z2E2Z2E0Z23lastZ2Dchunk

struct th_core {
  Z_tophat_instance_t inst;
  unsigned restarts;
  /* Set by a failed lift just before it raises a trap, so the trap can say what it was. */
  const char *lift_error;
  const char *last_trap;
};

/* ---- names ---------------------------------------------------------------------------- */

#define COUNT(a) (sizeof(a) / sizeof *(a))
#define NAME_OF(table, i) ((unsigned)(i) < COUNT(table) ? table[(unsigned)(i)] : "?")

static const char *const result_names[] = {"ok",      "incomplete", "complete",    "invalid",
                                           "trapped", "no-memory",  "bad-argument"};
static const char *const reject_names[] = {
    "bad-line-ending",    "bad-method",          "bad-request-line",
    "bad-target",         "fragment-in-target",  "target-too-long",
    "bad-version",        "unsupported-version", "bad-header-name",
    "space-before-colon", "obs-fold",            "bad-header-value",
    "head-too-large",     "too-many-headers",    "missing-host",
    "multiple-host",      "bad-host",            "bad-content-length",
    "conflicting-content-length",                "bad-transfer-encoding",
    "unsupported-transfer-coding",               "transfer-encoding-in-http10",
    "content-length-with-transfer-encoding",     "unsupported-expectation",
    "bad-chunk-size",     "chunk-size-overflow", "bad-chunk-extension",
    "chunk-extension-too-long",                  "bad-chunk-terminator",
};
static const char *const version_names[] = {"http10", "http11"};
static const char *const framing_names[] = {"none", "content-length", "chunked"};
static const char *const phase_names[] = {"size-line", "data", "data-end", "trailers", "done"};
static const char *const mode_names[] = {"none", "content-length", "chunked", "close-delimited"};
static const char *const frame_error_names[] = {
    "bad-status",         "bad-reason",            "bad-header-name", "bad-header-value",
    "bad-content-length", "bad-transfer-encoding", "body-not-allowed",
};

const char *th_result_name(th_result r) { return NAME_OF(result_names, r); }
const char *th_reject_reason_name(th_reject_reason r) { return NAME_OF(reject_names, r); }
const char *th_http_version_name(th_http_version v) { return NAME_OF(version_names, v); }
const char *th_body_framing_name(th_body_framing b) { return NAME_OF(framing_names, b); }
const char *th_chunked_phase_name(th_chunked_phase p) { return NAME_OF(phase_names, p); }
const char *th_body_mode_name(th_body_mode m) { return NAME_OF(mode_names, m); }
const char *th_frame_error_reason_name(th_frame_error_reason r) { return NAME_OF(frame_error_names, r); }

th_limits th_limits_default(void) {
  th_limits l = {16384, 100, 8192, 1024};
  return l;
}

th_field th_field_str(const char *name, const char *value) {
  th_field f = {name, strlen(name), value, strlen(value)};
  return f;
}

/* ---- the instance ----------------------------------------------------------------- */

th_core *th_core_new(void) {
  /* The module's static part (function types) is set up once per process. */
  static bool module_ready = false;
  if (!module_ready) {
    wasm_rt_init();
    Z_tophat_init_module();
    module_ready = true;
  }
  th_core *core = calloc(1, sizeof *core);
  if (core == NULL) return NULL;
  Z_tophat_instantiate(&core->inst);
  return core;
}

void th_core_free(th_core *core) {
  if (core == NULL) return;
  Z_tophat_free(&core->inst);
  free(core);
}

unsigned th_core_restarts(const th_core *core) { return core->restarts; }
const char *th_core_last_trap(const th_core *core) { return core->last_trap; }

/* After a trap the instance's memory and globals are whatever the trap left: start over. */
static th_result recover(th_core *core, wasm_rt_trap_t trap) {
  core->last_trap = core->lift_error != NULL ? core->lift_error : wasm_rt_strerror(trap);
  core->lift_error = NULL;
  Z_tophat_free(&core->inst);
  memset(&core->inst, 0, sizeof core->inst);
  Z_tophat_instantiate(&core->inst);
  core->restarts++;
  return TH_TRAPPED;
}

/*
 * Arms the unwind target in the calling function's frame (setjmp must stay in a frame
 * that is live when the core longjmps). Only `core`, which nothing changes after the
 * setjmp, is used on the trap path.
 */
#define TH_TRY(core)                                                 \
  do {                                                               \
    wasm_rt_trap_t trap_ = wasm_rt_impl_try();                       \
    if (trap_ != WASM_RT_TRAP_NONE) return recover((core), trap_);   \
  } while (0)

/* ---- reading and writing linear memory --------------------------------------------------- */

static WASM_RT_NO_RETURN void lift_failed(th_core *core, const char *what) {
  core->lift_error = what;
  wasm_rt_trap(WASM_RT_TRAP_OOB);
}

/* `n` bytes at `addr` in the core's memory; a range outside it traps (as a lift would). */
static uint8_t *at(th_core *core, uint32_t addr, uint64_t n) {
  wasm_rt_memory_t *m = Z_tophatZ_memory(&core->inst);
  if ((uint64_t)addr + n > m->size) lift_failed(core, "the core returned a result outside its memory");
  return m->data + addr;
}
static uint8_t rd8(th_core *c, uint32_t a) { return *at(c, a, 1); }
static uint16_t rd16(th_core *c, uint32_t a) { uint16_t v; memcpy(&v, at(c, a, 2), 2); return v; }
static uint32_t rd32(th_core *c, uint32_t a) { uint32_t v; memcpy(&v, at(c, a, 4), 4); return v; }
static uint64_t rd64(th_core *c, uint32_t a) { uint64_t v; memcpy(&v, at(c, a, 8), 8); return v; }
static th_span rd_span(th_core *c, uint32_t a) { th_span s = {rd32(c, a), rd32(c, a + 4)}; return s; }
static bool rd_bool(th_core *c, uint32_t a) { return rd8(c, a) != 0; }

/* A discriminant of a type with `cases` cases. */
static uint8_t rd_case(th_core *c, uint32_t a, uint8_t cases) {
  uint8_t d = rd8(c, a);
  if (d >= cases) lift_failed(c, "the core returned a discriminant outside its type");
  return d;
}

/* rejection: reason u8 @0, status u16 @2, offset u32 @4 */
static th_rejection rd_rejection(th_core *c, uint32_t a) {
  th_rejection r;
  r.reason = (th_reject_reason)rd_case(c, a, (uint8_t)COUNT(reject_names));
  r.status = rd16(c, a + 2);
  r.offset = rd32(c, a + 4);
  return r;
}

/* frame-error: reason u8 @0, option<u32> tag @4, value @8 */
static th_frame_error rd_frame_error(th_core *c, uint32_t a) {
  th_frame_error e = {(th_frame_error_reason)rd_case(c, a, (uint8_t)COUNT(frame_error_names)), false, 0};
  if ((e.has_header_index = rd_case(c, a + 4, 2) != 0)) e.header_index = rd32(c, a + 8);
  return e;
}

/* Grows `*array` to hold `need` elements of `size` bytes; false if malloc failed. */
static bool reserve(void **array, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap : 8;
  while (n < need) n *= 2;
  void *p = realloc(*array, n * size);
  if (p == NULL) return false;
  *array = p;
  *cap = n;
  return true;
}
static bool reserve32(void **array, uint32_t *cap, size_t need, size_t size) {
  size_t c = *cap;
  bool ok = reserve(array, &c, need, size);
  *cap = (uint32_t)c;
  return ok;
}

/* list<header> of `count` 16-byte records at `ptr`, into `*out`; false if malloc failed. */
static bool rd_headers(th_core *c, uint32_t ptr, uint32_t count, th_header **out, uint32_t *cap) {
  at(c, ptr, (uint64_t)count * 16); /* the whole list is in memory */
  if (!reserve32((void **)out, cap, count, sizeof **out)) return false;
  for (uint32_t i = 0; i < count; i++) {
    (*out)[i].name = rd_span(c, ptr + i * 16);
    (*out)[i].value = rd_span(c, ptr + i * 16 + 8);
  }
  return true;
}

/* list<u8> at `ptr` into `*out`; false if malloc failed. */
static bool rd_bytes(th_core *c, uint32_t ptr, uint32_t len, uint8_t **out, size_t *cap) {
  const uint8_t *src = at(c, ptr, len);
  if (!reserve((void **)out, cap, len ? len : 1, 1)) return false;
  memcpy(*out, src, len);
  return true;
}

/* cabi_realloc(0, 0, align, len) and, when `bytes`, a copy of them there. */
static uint32_t put(th_core *c, const void *bytes, uint32_t len, uint32_t align) {
  uint32_t ptr = X_REALLOC(&c->inst, 0, 0, align, len);
  if (bytes != NULL && len > 0) memcpy(at(c, ptr, len), bytes, len);
  return ptr;
}

/* The WIT's `string` is UTF-8: refuse anything else before the core sees it. */
static bool is_utf8(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned char b = p[i];
    size_t more;
    uint32_t cp, min;
    if (b < 0x80) { i++; continue; }
    if ((b & 0xe0) == 0xc0) { more = 1; cp = b & 0x1f; min = 0x80; }
    else if ((b & 0xf0) == 0xe0) { more = 2; cp = b & 0x0f; min = 0x800; }
    else if ((b & 0xf8) == 0xf0) { more = 3; cp = b & 0x07; min = 0x10000; }
    else return false;
    if (n - i <= more) return false;
    for (size_t k = 1; k <= more; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += more + 1;
  }
  return true;
}

static bool fields_ok(const th_field *fields, size_t count) {
  if (count > 0 && fields == NULL) return false;
  if (count > UINT32_MAX / 16) return false;
  for (size_t i = 0; i < count; i++) {
    const th_field *f = &fields[i];
    if ((f->name_len && !f->name) || (f->value_len && !f->value)) return false;
    if (f->name_len > UINT32_MAX || f->value_len > UINT32_MAX) return false;
    if (!is_utf8(f->name, f->name_len) || !is_utf8(f->value, f->value_len)) return false;
  }
  return true;
}

/* list<field>: 16-byte records (name ptr, len, value ptr, len) and the strings. */
static uint32_t put_fields(th_core *c, const th_field *fields, size_t count) {
  uint32_t list = put(c, NULL, (uint32_t)count * 16, 4);
  for (size_t i = 0; i < count; i++) {
    uint32_t nl = (uint32_t)fields[i].name_len, vl = (uint32_t)fields[i].value_len;
    uint32_t np = put(c, fields[i].name, nl, 1);
    uint32_t vp = put(c, fields[i].value, vl, 1);
    uint32_t rec[4] = {np, nl, vp, vl};
    memcpy(at(c, list + (uint32_t)i * 16, 16), rec, 16);
  }
  return list;
}

/* ---- parse-head -------------------------------------------------------------------- */

th_result th_parse_head(th_core *core, const void *bytes, size_t len, const th_limits *limits,
                        th_parse_result *out) {
  if (core == NULL || limits == NULL || out == NULL || (len > 0 && bytes == NULL) || len > UINT32_MAX)
    return TH_BAD_ARGUMENT;
  TH_TRY(core);
  uint32_t ptr = put(core, bytes, (uint32_t)len, 1);
  uint32_t ret = X_PARSE_HEAD(&core->inst, ptr, (uint32_t)len, limits->max_head_bytes, limits->max_headers,
                              limits->max_target_length, limits->max_chunk_extension_length);
  th_result result;
  switch (rd_case(core, ret, 3)) {
    case 0: /* incomplete(u32) */
      out->search_from = rd32(core, ret + 8);
      result = TH_INCOMPLETE;
      break;
    case 1: { /* complete(request-head) at ret + 8 */
      uint32_t h = ret + 8;
      th_request_head *r = &out->head;
      r->method = rd_span(core, h);
      r->target = rd_span(core, h + 8);
      r->path = rd_span(core, h + 16);
      r->has_query = rd_case(core, h + 24, 2) != 0;
      r->query = r->has_query ? rd_span(core, h + 28) : (th_span){0, 0};
      r->has_authority = rd_case(core, h + 36, 2) != 0;
      r->authority = r->has_authority ? rd_span(core, h + 40) : (th_span){0, 0};
      r->version = (th_http_version)rd_case(core, h + 48, 2);
      r->header_count = rd32(core, h + 56);
      r->head_length = rd32(core, h + 60);
      r->body = (th_body_framing)rd_case(core, h + 64, 3);
      r->content_length = r->body == TH_BODY_CONTENT_LENGTH ? rd64(core, h + 72) : 0;
      r->keep_alive = rd_bool(core, h + 80);
      r->expect_continue = rd_bool(core, h + 81);
      r->upgrade = rd_bool(core, h + 82);
      if (rd_headers(core, rd32(core, h + 52), r->header_count, &out->headers_, &out->headers_cap_)) {
        r->headers = out->headers_;
        result = TH_COMPLETE;
      } else {
        r->headers = NULL;
        r->header_count = 0;
        result = TH_NO_MEMORY;
      }
      break;
    }
    default: /* invalid(rejection) */
      out->rejection = rd_rejection(core, ret + 8);
      result = TH_INVALID;
  }
  X_POST_PARSE_HEAD(&core->inst, ret);
  return result;
}

void th_parse_result_free(th_parse_result *r) {
  if (r == NULL) return;
  free(r->headers_);
  memset(r, 0, sizeof *r);
}

bool th_may_end_head(const void *bytes, size_t len, size_t from) {
  const uint8_t *b = bytes;
  for (const uint8_t *p = from < len ? memchr(b + from, '\n', len - from) : NULL; p != NULL;
       p = memchr(p + 1, '\n', len - (size_t)(p + 1 - b))) {
    size_t i = (size_t)(p - b);
    if (i + 1 < len && b[i + 1] == '\n') return true;
    if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n') return true;
  }
  return false;
}

/* ---- chunked.decode ------------------------------------------------------------------ */

th_result th_decode_chunked(th_core *core, const void *bytes, size_t len, const th_chunked_state *state,
                            const th_limits *limits, th_decode_result *out) {
  if (core == NULL || state == NULL || limits == NULL || out == NULL || (len > 0 && bytes == NULL) ||
      len > UINT32_MAX || (unsigned)state->phase >= COUNT(phase_names))
    return TH_BAD_ARGUMENT;
  TH_TRY(core);
  uint32_t ptr = put(core, bytes, (uint32_t)len, 1);
  uint32_t ret = X_DECODE(&core->inst, ptr, (uint32_t)len, (uint32_t)state->phase, state->remaining,
                          state->trailer_bytes, state->trailer_count, limits->max_head_bytes, limits->max_headers,
                          limits->max_target_length, limits->max_chunk_extension_length);
  th_result result = TH_OK;
  if (rd_case(core, ret, 2) == 0) { /* progress(chunked-progress) at ret + 8 */
    out->consumed = rd32(core, ret + 8);
    uint32_t data = rd32(core, ret + 12), data_count = rd32(core, ret + 16);
    uint32_t trailers = rd32(core, ret + 20), trailer_count = rd32(core, ret + 24);
    out->state.phase = (th_chunked_phase)rd_case(core, ret + 32, (uint8_t)COUNT(phase_names));
    out->state.remaining = rd64(core, ret + 40);
    out->state.trailer_bytes = rd32(core, ret + 48);
    out->state.trailer_count = rd32(core, ret + 52);
    at(core, data, (uint64_t)data_count * 8);
    if (reserve32((void **)&out->data_, &out->data_cap_, data_count, sizeof *out->data_) &&
        rd_headers(core, trailers, trailer_count, &out->trailers_, &out->trailers_cap_)) {
      for (uint32_t i = 0; i < data_count; i++) out->data_[i] = rd_span(core, data + i * 8);
      out->data = out->data_;
      out->data_count = data_count;
      out->trailers = out->trailers_;
      out->trailer_count = trailer_count;
    } else {
      out->data = NULL;
      out->trailers = NULL;
      out->data_count = out->trailer_count = 0;
      result = TH_NO_MEMORY;
    }
  } else { /* invalid(rejection) */
    out->rejection = rd_rejection(core, ret + 8);
    result = TH_INVALID;
  }
  X_POST_DECODE(&core->inst, ret);
  return result;
}

void th_decode_result_free(th_decode_result *r) {
  if (r == NULL) return;
  free(r->data_);
  free(r->trailers_);
  memset(r, 0, sizeof *r);
}

/* ---- framer ------------------------------------------------------------------------- */

th_result th_frame_head(th_core *core, const th_response_head *response, const th_request_context *request,
                        const char *date, size_t date_len, th_framed_head *out) {
  if (core == NULL || response == NULL || request == NULL || out == NULL) return TH_BAD_ARGUMENT;
  if (!fields_ok(response->headers, response->header_count)) return TH_BAD_ARGUMENT;
  if (response->reason != NULL && (response->reason_len > UINT32_MAX || !is_utf8(response->reason, response->reason_len)))
    return TH_BAD_ARGUMENT;
  if (date != NULL && (date_len > UINT32_MAX || !is_utf8(date, date_len))) return TH_BAD_ARGUMENT;
  TH_TRY(core);
  uint32_t list = put_fields(core, response->headers, response->header_count);
  uint32_t reason_len = response->reason != NULL ? (uint32_t)response->reason_len : 0;
  uint32_t reason = put(core, response->reason, reason_len, 1);
  uint32_t dlen = date != NULL ? (uint32_t)date_len : 0;
  uint32_t dptr = put(core, date, dlen, 1);
  uint32_t ret = X_FRAME_HEAD(&core->inst, response->status, response->reason != NULL, reason, reason_len, list,
                              (uint32_t)response->header_count, response->has_body_length,
                              response->has_body_length ? response->body_length : 0, request->head,
                              request->http10, request->close, request->connect, date != NULL, dptr, dlen);
  th_result result = TH_OK;
  if (rd_case(core, ret, 2) == 0) { /* head(framed-head) at ret + 8 */
    out->body = (th_body_mode)rd_case(core, ret + 16, (uint8_t)COUNT(mode_names));
    out->content_length = rd64(core, ret + 24);
    out->close = rd_bool(core, ret + 32);
    uint32_t len = rd32(core, ret + 12);
    if (rd_bytes(core, rd32(core, ret + 8), len, &out->bytes_, &out->cap_)) {
      out->bytes = out->bytes_;
      out->len = len;
    } else {
      out->bytes = NULL;
      out->len = 0;
      result = TH_NO_MEMORY;
    }
  } else { /* invalid(frame-error) at ret + 8 */
    out->error = rd_frame_error(core, ret + 8);
    result = TH_INVALID;
  }
  X_POST_FRAME_HEAD(&core->inst, ret);
  return result;
}

void th_framed_head_free(th_framed_head *r) {
  if (r == NULL) return;
  free(r->bytes_);
  memset(r, 0, sizeof *r);
}

th_result th_chunk_size_line(th_core *core, uint64_t size, th_wire *out) {
  if (core == NULL || out == NULL) return TH_BAD_ARGUMENT;
  TH_TRY(core);
  uint32_t ret = X_CHUNK_SIZE_LINE(&core->inst, size); /* list<u8>: ptr @0, len @4 */
  th_result result = TH_OK;
  uint32_t len = rd32(core, ret + 4);
  if (rd_bytes(core, rd32(core, ret), len, &out->bytes_, &out->cap_)) {
    out->bytes = out->bytes_;
    out->len = len;
  } else {
    out->bytes = NULL;
    out->len = 0;
    result = TH_NO_MEMORY;
  }
  X_POST_CHUNK_SIZE_LINE(&core->inst, ret);
  return result;
}

th_result th_last_chunk(th_core *core, const th_field *trailers, size_t count, th_wire *out) {
  if (core == NULL || out == NULL || !fields_ok(trailers, count)) return TH_BAD_ARGUMENT;
  TH_TRY(core);
  uint32_t list = put_fields(core, trailers, count);
  uint32_t ret = X_LAST_CHUNK(&core->inst, list, (uint32_t)count);
  th_result result = TH_OK;
  if (rd_case(core, ret, 2) == 0) { /* bytes(list<u8>): ptr @4, len @8 */
    uint32_t len = rd32(core, ret + 8);
    if (rd_bytes(core, rd32(core, ret + 4), len, &out->bytes_, &out->cap_)) {
      out->bytes = out->bytes_;
      out->len = len;
    } else {
      out->bytes = NULL;
      out->len = 0;
      result = TH_NO_MEMORY;
    }
  } else { /* invalid(frame-error) at ret + 4 */
    out->error = rd_frame_error(core, ret + 4);
    result = TH_INVALID;
  }
  X_POST_LAST_CHUNK(&core->inst, ret);
  return result;
}

void th_wire_free(th_wire *r) {
  if (r == NULL) return;
  free(r->bytes_);
  memset(r, 0, sizeof *r);
}

/* ---- Date --------------------------------------------------------------------------- */

void th_imf_fixdate(time_t t, char out[TH_IMF_FIXDATE_LEN + 1]) {
  /* Written out by hand: strftime's %a and %b follow the locale, and HTTP's do not. */
  static const char days[] = "SunMonTueWedThuFriSat";
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  struct tm tm;
  gmtime_r(&t, &tm);
  unsigned year = (unsigned)(tm.tm_year + 1900) % 10000;
  char *p = out;
  memcpy(p, days + 3 * tm.tm_wday, 3), p += 3;
  *p++ = ',', *p++ = ' ';
  *p++ = (char)('0' + tm.tm_mday / 10), *p++ = (char)('0' + tm.tm_mday % 10), *p++ = ' ';
  memcpy(p, months + 3 * tm.tm_mon, 3), p += 3;
  *p++ = ' ';
  *p++ = (char)('0' + year / 1000), *p++ = (char)('0' + year / 100 % 10);
  *p++ = (char)('0' + year / 10 % 10), *p++ = (char)('0' + year % 10), *p++ = ' ';
  *p++ = (char)('0' + tm.tm_hour / 10), *p++ = (char)('0' + tm.tm_hour % 10), *p++ = ':';
  *p++ = (char)('0' + tm.tm_min / 10), *p++ = (char)('0' + tm.tm_min % 10), *p++ = ':';
  *p++ = (char)('0' + tm.tm_sec / 10), *p++ = (char)('0' + tm.tm_sec % 10);
  memcpy(p, " GMT", 5);
}
