/*
 * libFuzzer harness for `framer.frame-head` (wit/tophat.wit). The fuzz input is decoded
 * into a response and its request context:
 *
 *   bytes 0-1  status (u16 LE)          byte 2  flags: 1 reason, 2 body-length, 4 HEAD,
 *   bytes 3-10 body-length (u64 LE,             8 HTTP/1.0, 16 close, 32 date
 *              masked to 2^54 - 1)
 *   the rest   NUL-separated strings: the reason and the date (when flagged), then field
 *              name, value, name, value, ... (at most 64 fields)
 *
 * Strings are made valid UTF-8 (a byte >= 0x80 becomes a two-byte sequence), as the
 * canonical ABI requires of a `string`. Checks:
 *
 *  - no trap, and the result lifts (core.h aborts otherwise);
 *  - head: the bytes start with `HTTP/1.1 ` and the 3-digit status, end with the empty
 *    line, hold CR and LF only as CRLF, hold no NUL and no empty line before the end (no
 *    field or reason can inject a line or end the head early); content-length <= 2^53 - 1,
 *    and equals the known body length in content-length mode unless the request is HEAD;
 *  - invalid: a header-index is an index into the fields;
 *  - the same call made twice gives the same answer (no state leaks between calls).
 */
#include "core.h"

#define MAX_FIELDS 64

static void violated(const char *what) {
  fprintf(stderr, "\n*** INVARIANT VIOLATED (frame-head): %s\n", what);
  abort();
}

/* Copies data[*at, next NUL) into buf as valid UTF-8; advances past the NUL. */
static char *next_string(const uint8_t *data, size_t size, size_t *at, char *buf) {
  char *out = buf;
  while (*at < size && data[*at] != 0) {
    uint8_t b = data[(*at)++];
    if (b < 0x80) *out++ = (char)b;
    else { *out++ = (char)0xC2; *out++ = (char)(0x80 | (b & 0x3F)); }
  }
  if (*at < size) (*at)++;
  *out = 0;
  return buf;
}

static void check_head(const th_frame *f, uint16_t status, int has_length, uint64_t length, int head) {
  const uint8_t *b = f->bytes;
  uint32_t n = f->len;
  if (n < 13 + 4 || memcmp(b, "HTTP/1.1 ", 9) != 0) violated("the status line does not start with HTTP/1.1");
  char code[4];
  snprintf(code, sizeof code, "%03u", status % 1000);
  if (memcmp(b + 9, code, 3) != 0) violated("the status line does not carry the status");
  if (memcmp(b + n - 4, "\r\n\r\n", 4) != 0) violated("the head does not end with an empty line");
  for (uint32_t i = 0; i < n; i++) {
    if (b[i] == 0) violated("a NUL in the head");
    if (b[i] == '\r' && (i + 1 == n || b[i + 1] != '\n')) violated("a CR not followed by LF");
    if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r')) violated("an LF not preceded by CR");
    if (i + 4 < n && memcmp(b + i, "\r\n\r\n", 4) == 0) violated("an empty line before the end of the head");
  }
  if (f->content_length > 0x1FFFFFFFFFFFFFull) violated("content-length above 2^53 - 1");
  if (f->body == 1 && has_length && !head && f->content_length != length)
    violated("content-length mode with a length other than the body's");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 11 || size > 8192) return 0;
  th_init();
  static char text[2 * 8192 + 2 * MAX_FIELDS + 8];
  uint16_t status = (uint16_t)(data[0] | data[1] << 8);
  uint8_t flags = data[2];
  uint64_t length = 0;
  for (int i = 0; i < 8; i++) length |= (uint64_t)data[3 + i] << (8 * i);
  length &= (1ull << 54) - 1;

  size_t at = 11;
  char *cursor = text;
  const char *reason = NULL, *date = NULL;
  if (flags & 1) { reason = next_string(data, size, &at, cursor); cursor += strlen(cursor) + 1; }
  if (flags & 32) { date = next_string(data, size, &at, cursor); cursor += strlen(cursor) + 1; }
  th_field fields[MAX_FIELDS];
  uint32_t count = 0;
  while (at < size && count < MAX_FIELDS) {
    fields[count].name = next_string(data, size, &at, cursor);
    cursor += strlen(cursor) + 1;
    fields[count].value = next_string(data, size, &at, cursor);
    cursor += strlen(cursor) + 1;
    count++;
  }

  int has_length = (flags & 2) != 0, head = (flags & 4) != 0, http10 = (flags & 8) != 0, close = (flags & 16) != 0, connect = (flags & 32) != 0;
  th_frame f, g;
  th_frame_head(status, reason, fields, count, has_length, length, head, http10, close, connect, date, &f);
  if (f.tag == 0) check_head(&f, status, has_length, length, head);
  else if (f.has_index && f.header_index >= count) violated("a header-index beyond the fields");

  th_frame_head(status, reason, fields, count, has_length, length, head, http10, close, connect, date, &g);
  if (f.tag != g.tag || f.len != g.len || (f.tag == 0 && memcmp(f.bytes, g.bytes, f.len) != 0) ||
      f.body != g.body || f.content_length != g.content_length || f.close != g.close ||
      f.error_reason != g.error_reason || f.has_index != g.has_index || f.header_index != g.header_index)
    violated("the same call twice gives different answers");
  th_frame_free(&f);
  th_frame_free(&g);
  return 0;
}
