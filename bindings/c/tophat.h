/*
 * tophat.h: Tophat's HTTP/1.1 protocol core for C.
 *
 * The core (wit/tophat.wit, package tophat:http@0.2.0) is a WebAssembly module compiled
 * to C by wasm2c; this header is its C API. It parses request heads, decodes chunked
 * bodies and frames response heads, as pure functions over bytes: the core keeps no
 * connection state, so one `th_core` serves any number of connections.
 *
 * Conventions
 * - Spans (`th_span`) are byte ranges in the buffer you passed to the call that returned
 *   them. They never point elsewhere, in particular never into the core's memory.
 * - Lists (headers, trailers, body data spans) and produced bytes (framed heads, chunk
 *   lines) live in the result struct you pass in: zero-initialize it once
 *   (`th_parse_result r = {0};`), reuse it for as many calls as you like (its arrays are
 *   grown, never shrunk), and free it with its `_free` function. What a call wrote into
 *   it is valid until the next call that writes into the same struct, or its `_free`.
 * - Every call returns a `th_result`. `TH_TRAPPED` means the core trapped (a bug in the
 *   core, or an input so large that the core's 256 MiB memory ran out): the instance was
 *   thrown away and a fresh one made, so the next call works; only this call failed.
 * - Threads: wasm2c's runtime (wabt 1.0.32) keeps its trap handler in a global, so all
 *   calls into all `th_core`s of a process must come from one thread at a time.
 * - Little-endian hosts only (the binding reads the core's memory directly).
 */
#ifndef TOPHAT_H
#define TOPHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The WIT package this binding speaks. */
#define TH_WIT_PACKAGE "tophat:http@0.2.0"

/* ---- results ------------------------------------------------------------------------ */

/** What a call returned. Which cases a function can return is in its comment. */
typedef enum th_result {
  /** Done: the result struct holds the output (decode, frame and chunk functions). */
  TH_OK = 0,
  /** `th_parse_head`: the bytes are a valid prefix of a head; see `search_from`. */
  TH_INCOMPLETE = 1,
  /** `th_parse_head`: a whole, valid head is in `head`. */
  TH_COMPLETE = 2,
  /** Refused: the result's `rejection` (parser, decoder) or `error` (framer) says why. */
  TH_INVALID = 3,
  /** The core trapped; the instance was re-made, only this call failed. */
  TH_TRAPPED = 4,
  /** malloc failed while copying a result out; the result struct is unchanged or empty. */
  TH_NO_MEMORY = 5,
  /** An argument the core cannot take: NULL pointers, a length over 4 GiB, a string
   * (field, reason, date) that is not UTF-8 (the WIT's `string`). Nothing was called. */
  TH_BAD_ARGUMENT = 6,
} th_result;

/** "ok", "incomplete", "complete", "invalid", "trapped", "no-memory", "bad-argument". */
const char *th_result_name(th_result r);

/* ---- the core instance ------------------------------------------------------------ */

/** One instance of the core (its linear memory and state). Opaque. */
typedef struct th_core th_core;

/** Makes an instance (about 128 KiB, growing as inputs need). NULL if malloc failed. */
th_core *th_core_new(void);

/** Frees an instance. NULL is fine. Result structs are separate: free them too. */
void th_core_free(th_core *core);

/** How many times a trap made this instance start over. */
unsigned th_core_restarts(const th_core *core);

/** The last trap's description (wasm2c's), or NULL if the instance never trapped. */
const char *th_core_last_trap(const th_core *core);

/* ---- shared types ------------------------------------------------------------------- */

/** A byte range `[start, start + len)` in the buffer passed to the call. */
typedef struct th_span {
  uint32_t start;
  uint32_t len;
} th_span;

/** One header (or trailer) field line. The value excludes leading/trailing whitespace. */
typedef struct th_header {
  th_span name;
  th_span value;
} th_header;

/** Limits chosen by the host. Exceeding one is a rejection. */
typedef struct th_limits {
  /** Most bytes of a request head (and of a trailer section). Over it: 431. */
  uint32_t max_head_bytes;
  /** Most header fields (and trailer fields). Over it: 431. */
  uint32_t max_headers;
  /** Longest request-target. Over it: 414. */
  uint32_t max_target_length;
  /** Longest chunk extension. Over it: 400. */
  uint32_t max_chunk_extension_length;
} th_limits;

/** The WIT's suggested defaults: 16384 head bytes, 100 headers, 8192 target, 1024 extension. */
th_limits th_limits_default(void);

/** Why a request was refused (the WIT's `reject-reason`, same order; status in brackets). */
typedef enum th_reject_reason {
  TH_REJECT_BAD_LINE_ENDING,                       /**< [400] */
  TH_REJECT_BAD_METHOD,                            /**< [400] */
  TH_REJECT_BAD_REQUEST_LINE,                      /**< [400] */
  TH_REJECT_BAD_TARGET,                            /**< [400] */
  TH_REJECT_FRAGMENT_IN_TARGET,                    /**< [400] */
  TH_REJECT_TARGET_TOO_LONG,                       /**< [414] */
  TH_REJECT_BAD_VERSION,                           /**< [400] */
  TH_REJECT_UNSUPPORTED_VERSION,                   /**< [505] */
  TH_REJECT_BAD_HEADER_NAME,                       /**< [400] */
  TH_REJECT_SPACE_BEFORE_COLON,                    /**< [400] */
  TH_REJECT_OBS_FOLD,                              /**< [400] */
  TH_REJECT_BAD_HEADER_VALUE,                      /**< [400] */
  TH_REJECT_HEAD_TOO_LARGE,                        /**< [431] */
  TH_REJECT_TOO_MANY_HEADERS,                      /**< [431] */
  TH_REJECT_MISSING_HOST,                          /**< [400] */
  TH_REJECT_MULTIPLE_HOST,                         /**< [400] */
  TH_REJECT_BAD_HOST,                              /**< [400] */
  TH_REJECT_BAD_CONTENT_LENGTH,                    /**< [400] */
  TH_REJECT_CONFLICTING_CONTENT_LENGTH,            /**< [400] */
  TH_REJECT_BAD_TRANSFER_ENCODING,                 /**< [400] */
  TH_REJECT_UNSUPPORTED_TRANSFER_CODING,           /**< [501] */
  TH_REJECT_TRANSFER_ENCODING_IN_HTTP10,           /**< [400] */
  TH_REJECT_CONTENT_LENGTH_WITH_TRANSFER_ENCODING, /**< [400] */
  TH_REJECT_UNSUPPORTED_EXPECTATION,               /**< [417] */
  TH_REJECT_BAD_CHUNK_SIZE,                        /**< [400] */
  TH_REJECT_CHUNK_SIZE_OVERFLOW,                   /**< [400] */
  TH_REJECT_BAD_CHUNK_EXTENSION,                   /**< [400] */
  TH_REJECT_CHUNK_EXTENSION_TOO_LONG,              /**< [400] */
  TH_REJECT_BAD_CHUNK_TERMINATOR,                  /**< [400] */
} th_reject_reason;

/** The WIT's name of a reason ("bad-line-ending", ...), or "?" outside the enum. */
const char *th_reject_reason_name(th_reject_reason r);

/**
 * A refused request: answer with `status` and close the connection. `offset` is the
 * offending byte in the buffer passed (see `rejection` in the WIT for whole-head rules).
 */
typedef struct th_rejection {
  th_reject_reason reason;
  uint16_t status;
  uint32_t offset;
} th_rejection;

/* ---- parser ------------------------------------------------------------------------- */

typedef enum th_http_version {
  TH_HTTP10,
  TH_HTTP11,
} th_http_version;

/** "http10" or "http11". */
const char *th_http_version_name(th_http_version v);

/** How the request body is delimited. */
typedef enum th_body_framing {
  /** No body. */
  TH_BODY_NONE,
  /** `content_length` bytes follow the head (at most 2^53 - 1). */
  TH_BODY_CONTENT_LENGTH,
  /** A chunked body follows: feed it to `th_decode_chunked`. */
  TH_BODY_CHUNKED,
} th_body_framing;

/** "none", "content-length", "chunked". */
const char *th_body_framing_name(th_body_framing b);

/** A complete, valid request head. Spans are into the buffer given to `th_parse_head`. */
typedef struct th_request_head {
  /** The method token as sent (case-sensitive). */
  th_span method;
  /** The raw request-target. */
  th_span target;
  /** Path part of the target (see the WIT for absolute-, authority- and asterisk-form). */
  th_span path;
  /** The query after `?` (without it), when `has_query`. */
  bool has_query;
  th_span query;
  /** The authority of an absolute-form or CONNECT target, when `has_authority`. */
  bool has_authority;
  th_span authority;
  th_http_version version;
  /** Every field line in wire order; owned by the `th_parse_result`. */
  const th_header *headers;
  uint32_t header_count;
  /** Bytes up to the end of the empty line ending the head: the body starts here. */
  uint32_t head_length;
  th_body_framing body;
  /** With `TH_BODY_CONTENT_LENGTH`. */
  uint64_t content_length;
  /** The connection may stay open after this exchange. */
  bool keep_alive;
  /** `Expect: 100-continue` (HTTP/1.1 only). */
  bool expect_continue;
  /** `Upgrade` with the `upgrade` connection option. */
  bool upgrade;
} th_request_head;

/** Where `th_parse_head` writes. Zero-initialize; free with `th_parse_result_free`. */
typedef struct th_parse_result {
  /** TH_INCOMPLETE: the head cannot end before this offset (see `th_may_end_head`). */
  uint32_t search_from;
  /** TH_COMPLETE. */
  th_request_head head;
  /** TH_INVALID. */
  th_rejection rejection;
  /* private: the header array and its capacity */
  th_header *headers_;
  uint32_t headers_cap_;
} th_parse_result;

/**
 * Parses the request head at the start of `bytes` (empty lines before it are skipped;
 * bytes after it are not looked at).
 *
 * @returns TH_INCOMPLETE (`out->search_from`), TH_COMPLETE (`out->head`), TH_INVALID
 *          (`out->rejection`), TH_TRAPPED, TH_NO_MEMORY or TH_BAD_ARGUMENT.
 *
 * The core parses from the start each time. To keep a connection's work linear, call it
 * on a head's first read, then after TH_INCOMPLETE only when `th_may_end_head` says the
 * new bytes may end the head, or when you hold `max_head_bytes`; see README.md.
 */
th_result th_parse_head(th_core *core, const void *bytes, size_t len, const th_limits *limits,
                        th_parse_result *out);

/** Frees the result's arrays and zeroes it (it may be reused). NULL is fine. */
void th_parse_result_free(th_parse_result *r);

/**
 * Whether `bytes[0..len)` holds `LF CR LF` or `LF LF` starting with an LF at or after
 * `from`: the only way a head that was TH_INCOMPLETE can end (or be refused for a bare
 * LF). After TH_INCOMPLETE, search from `max(search_from, searched - 2)`, where `searched`
 * is how many bytes you held at your previous search, so each byte is looked at a
 * bounded number of times however the head arrives.
 */
bool th_may_end_head(const void *bytes, size_t len, size_t from);

/* ---- chunked decoder ------------------------------------------------------------------ */

typedef enum th_chunked_phase {
  TH_PHASE_SIZE_LINE, /**< expecting a chunk-size line (the initial phase) */
  TH_PHASE_DATA,      /**< inside chunk data */
  TH_PHASE_DATA_END,  /**< expecting the CRLF after chunk data */
  TH_PHASE_TRAILERS,  /**< after the last chunk: trailer fields or the final empty line */
  TH_PHASE_DONE,      /**< the body is complete */
} th_chunked_phase;

/** "size-line", "data", "data-end", "trailers", "done". */
const char *th_chunked_phase_name(th_chunked_phase p);

/** The decoder state: start with TH_CHUNKED_STATE_INIT and pass back what each call returns. */
typedef struct th_chunked_state {
  th_chunked_phase phase;
  /** Data bytes left in the current chunk. */
  uint64_t remaining;
  /** Trailer section bytes so far (limited by max_head_bytes). */
  uint32_t trailer_bytes;
  /** Trailer fields so far (limited by max_headers). */
  uint32_t trailer_count;
} th_chunked_state;

#define TH_CHUNKED_STATE_INIT {TH_PHASE_SIZE_LINE, 0, 0, 0}

/** Where `th_decode_chunked` writes. Zero-initialize; free with `th_decode_result_free`. */
typedef struct th_decode_result {
  /** TH_OK: bytes of the input used; keep the rest and pass it again (see below). */
  uint32_t consumed;
  /** TH_OK: the body data in the input, in order. */
  const th_span *data;
  uint32_t data_count;
  /** TH_OK: trailer fields completed in this call (never merge them into the headers). */
  const th_header *trailers;
  uint32_t trailer_count;
  /** TH_OK: the state for the next call. */
  th_chunked_state state;
  /** TH_INVALID. */
  th_rejection rejection;
  /* private */
  th_span *data_;
  uint32_t data_cap_;
  th_header *trailers_;
  uint32_t trailers_cap_;
} th_decode_result;

/**
 * Decodes as much of a chunked body as `bytes` holds, looking at no more than a window
 * (1 MiB, or more if the limits need it) per call.
 *
 * @returns TH_OK, TH_INVALID (`out->rejection`), TH_TRAPPED, TH_NO_MEMORY or TH_BAD_ARGUMENT.
 *
 * After TH_OK: if `consumed` is more than 0 and less than `len`, pass the rest again at
 * once; if it is 0 (and the phase is not done), read more bytes first.
 */
th_result th_decode_chunked(th_core *core, const void *bytes, size_t len, const th_chunked_state *state,
                            const th_limits *limits, th_decode_result *out);

void th_decode_result_free(th_decode_result *r);

/* ---- framer ------------------------------------------------------------------------- */

/** A response field: UTF-8 bytes with lengths (no NUL needed). */
typedef struct th_field {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} th_field;

/** A field from two NUL-terminated strings. */
th_field th_field_str(const char *name, const char *value);

/** What the framer needs to know about the request being answered. */
typedef struct th_request_context {
  /** The request was HEAD: the head only. */
  bool head;
  /** The request was HTTP/1.0. */
  bool http10;
  /** The connection will close after this response. */
  bool close;
  /** The request was CONNECT: a 2xx opens a tunnel (no framing fields, mode none, no close). */
  bool connect;
} th_request_context;

/** The response to frame. */
typedef struct th_response_head {
  /** 100–999. */
  uint16_t status;
  /** Reason phrase, or NULL for the standard one. */
  const char *reason;
  size_t reason_len;
  /** Fields in the order to send them. */
  const th_field *headers;
  size_t header_count;
  /** Whether the body length is known up front (it must be, and 0, for 1xx/204/205/304). */
  bool has_body_length;
  uint64_t body_length;
} th_response_head;

/** How to write the body after the head. */
typedef enum th_body_mode {
  TH_MODE_NONE,            /**< no body bytes at all */
  TH_MODE_CONTENT_LENGTH,  /**< exactly `content_length` raw bytes */
  TH_MODE_CHUNKED,         /**< chunks (th_chunk_size_line, data, CRLF), then th_last_chunk */
  TH_MODE_CLOSE_DELIMITED, /**< raw bytes until the connection closes (HTTP/1.0) */
} th_body_mode;

/** "none", "content-length", "chunked", "close-delimited". */
const char *th_body_mode_name(th_body_mode m);

typedef enum th_frame_error_reason {
  TH_FRAME_BAD_STATUS,            /**< outside 100–999, or 1xx for HTTP/1.0 */
  TH_FRAME_BAD_REASON,            /**< a control byte in the reason phrase */
  TH_FRAME_BAD_HEADER_NAME,       /**< at `header_index` */
  TH_FRAME_BAD_HEADER_VALUE,      /**< at `header_index` */
  TH_FRAME_BAD_CONTENT_LENGTH,    /**< a field, or the body length itself (no index) */
  TH_FRAME_BAD_TRANSFER_ENCODING, /**< at `header_index` */
  TH_FRAME_BODY_NOT_ALLOWED,      /**< a body (or framing field) where the status has none */
} th_frame_error_reason;

/** "bad-status", "bad-reason", ... (the WIT's names). */
const char *th_frame_error_reason_name(th_frame_error_reason r);

/** Why a response could not be framed. */
typedef struct th_frame_error {
  th_frame_error_reason reason;
  /** The offending field's index in the headers passed, when `has_header_index`. */
  bool has_header_index;
  uint32_t header_index;
} th_frame_error;

/** Where `th_frame_head` writes. Zero-initialize; free with `th_framed_head_free`. */
typedef struct th_framed_head {
  /** TH_OK: the status line, fields and empty line, ready for the wire. */
  const uint8_t *bytes;
  size_t len;
  /** TH_OK: how to write the body. */
  th_body_mode body;
  /** TH_OK: the body length for content-length mode (also what a HEAD response announces). */
  uint64_t content_length;
  /** TH_OK: close the connection after this response. */
  bool close;
  /** TH_INVALID. */
  th_frame_error error;
  /* private */
  uint8_t *bytes_;
  size_t cap_;
} th_framed_head;

/**
 * Frames a response head: adds `Date` (from `date`, an IMF-fixdate such as
 * `th_imf_fixdate` makes; NULL for none) unless a field has one or the status is 1xx,
 * the body framing field, and Connection as the context needs.
 *
 * @returns TH_OK, TH_INVALID (`out->error`), TH_TRAPPED, TH_NO_MEMORY or TH_BAD_ARGUMENT.
 */
th_result th_frame_head(th_core *core, const th_response_head *response, const th_request_context *request,
                        const char *date, size_t date_len, th_framed_head *out);

void th_framed_head_free(th_framed_head *r);

/** Bytes the framer made for a chunked body. Zero-initialize; free with `th_wire_free`. */
typedef struct th_wire {
  /** TH_OK: the bytes to write. */
  const uint8_t *bytes;
  size_t len;
  /** TH_INVALID (`th_last_chunk` only). */
  th_frame_error error;
  /* private */
  uint8_t *bytes_;
  size_t cap_;
} th_wire;

/** The chunk-size line (hex size and CRLF) for `size` bytes of chunk data. TH_OK or TH_TRAPPED/TH_NO_MEMORY. */
th_result th_chunk_size_line(th_core *core, uint64_t size, th_wire *out);

/** The last chunk, trailer fields and final CRLF. TH_OK, TH_INVALID (`out->error`), TH_TRAPPED, ... */
th_result th_last_chunk(th_core *core, const th_field *trailers, size_t count, th_wire *out);

void th_wire_free(th_wire *r);

/** Length of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), without the NUL. */
#define TH_IMF_FIXDATE_LEN 29

/** Writes `t` as an IMF-fixdate and a NUL into `out` (the value of a Date field). */
void th_imf_fixdate(time_t t, char out[TH_IMF_FIXDATE_LEN + 1]);

#ifdef __cplusplus
}
#endif

#endif /* TOPHAT_H */
