/*
 * A small HTTP/1.1 server on the C binding: one thread, poll(2), loopback only.
 *
 * Every request gets `200 text/plain` with "<method> <path> <body bytes>\n": enough to
 * show keep-alive, pipelining (requests already buffered are answered in order), bodies
 * with Content-Length or chunked, Expect: 100-continue, and refusals (the rejection's
 * status, then the connection closes). Response heads come from th_frame_head.
 *
 *   ./server [port] [--stats]   # default 8080; 0 picks a free port. Prints the URL it
 *                               # serves; --stats: on exit, how much work heads cost.
 *
 * Not a production server: no timeouts for slow clients, no TLS, a fixed response.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tophat.h"

#define MAX_CONNS 256
#define READ_SIZE 16384
/* Stop reading from a client while this much of its output is unsent (backpressure). */
#define OUT_HIGH (256 * 1024)
/* After a refusal, how long to read and drop what the client still sends before closing
 * (closing with unread bytes would reset the connection and could lose the response). */
#define LINGER_SECONDS 2

enum state { READ_HEAD, READ_LENGTH, READ_CHUNKED, CLOSING, LINGERING };

struct conn {
  int fd;
  enum state state;
  uint8_t *in; /* unread input is in[in_start, in_len) */
  size_t in_start, in_len, in_cap;
  uint8_t *out; /* unsent output is out[out_sent, out_len) */
  size_t out_sent, out_len, out_cap;
  bool eof;
  time_t linger_until;
  /* Feeding the head: whether the core has seen this head, and what is searched. */
  bool head_called;
  size_t search_from, searched;
  /* The request being read. */
  char method[32], path[256];
  bool keep_alive, head, http10;
  uint64_t remaining, body_bytes;
  th_chunked_state chunked;
};

static th_core *core;
static th_limits limits;
/* One result struct of each kind: each is used right after the call that fills it. */
static th_parse_result parsed;
static th_decode_result decoded;
static th_framed_head framed;
static char date[TH_IMF_FIXDATE_LEN + 1];
static volatile sig_atomic_t stopping;
/* For --stats: reads from clients, and calls to th_parse_head and the bytes they took. */
static unsigned long long stat_reads, stat_parse_calls, stat_parse_bytes;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void *grow(void *p, size_t *cap, size_t need) {
  if (need <= *cap) return p;
  size_t n = *cap ? *cap : 4096;
  while (n < need) n *= 2;
  void *q = realloc(p, n);
  if (q == NULL) {
    perror("realloc");
    exit(1);
  }
  *cap = n;
  return q;
}

static void send_bytes(struct conn *c, const void *bytes, size_t len) {
  c->out = grow(c->out, &c->out_cap, c->out_len + len);
  memcpy(c->out + c->out_len, bytes, len);
  c->out_len += len;
}

/* Copies a span of the input into a NUL-terminated string (cut to fit). */
static void copy_span(char *dst, size_t cap, const uint8_t *base, th_span s) {
  size_t n = s.len < cap - 1 ? s.len : cap - 1;
  memcpy(dst, base + s.start, n);
  dst[n] = '\0';
}

/* Frames and queues a text/plain response; `close` ends the connection after it. */
static void respond(struct conn *c, uint16_t status, const char *body, bool close) {
  th_field fields[] = {th_field_str("Content-Type", "text/plain; charset=utf-8")};
  size_t len = strlen(body);
  th_response_head response = {.status = status, .headers = fields, .header_count = 1,
                               .has_body_length = true, .body_length = len};
  th_request_context request = {.head = c->head, .http10 = c->http10, .close = close};
  th_result r = th_frame_head(core, &response, &request, date, TH_IMF_FIXDATE_LEN, &framed);
  if (r != TH_OK) {
    fprintf(stderr, "server: th_frame_head: %s\n", th_result_name(r));
    c->state = CLOSING;
    return;
  }
  send_bytes(c, framed.bytes, framed.len);
  if (framed.body == TH_MODE_CONTENT_LENGTH) send_bytes(c, body, len);
  if (framed.close) c->state = CLOSING;
}

static void refuse(struct conn *c, const th_rejection *rej) {
  char body[96];
  snprintf(body, sizeof body, "%s\n", th_reject_reason_name(rej->reason));
  c->head = false; /* the request may not even have had a method */
  respond(c, rej->status, body, true);
}

static void answer(struct conn *c) {
  char body[400];
  snprintf(body, sizeof body, "%s %s %llu\n", c->method, c->path, (unsigned long long)c->body_bytes);
  c->state = READ_HEAD;
  respond(c, 200, body, !c->keep_alive);
}

static void start_request(struct conn *c, const uint8_t *bytes) {
  const th_request_head *h = &parsed.head;
  copy_span(c->method, sizeof c->method, bytes, h->method);
  copy_span(c->path, sizeof c->path, bytes, h->path);
  c->keep_alive = h->keep_alive;
  c->http10 = h->version == TH_HTTP10;
  c->head = strcmp(c->method, "HEAD") == 0;
  c->body_bytes = 0;
  c->in_start += h->head_length;
  c->head_called = false;
  c->search_from = c->searched = 0;
  if (h->expect_continue && h->body != TH_BODY_NONE) {
    /* The client waits for this before it sends the body. */
    th_response_head cont = {.status = 100, .has_body_length = true, .body_length = 0};
    th_request_context request = {.http10 = false};
    if (th_frame_head(core, &cont, &request, NULL, 0, &framed) == TH_OK) send_bytes(c, framed.bytes, framed.len);
  }
  switch (h->body) {
    case TH_BODY_NONE: answer(c); break;
    case TH_BODY_CONTENT_LENGTH:
      c->remaining = h->content_length;
      c->state = READ_LENGTH;
      if (c->remaining == 0) answer(c);
      break;
    case TH_BODY_CHUNKED: {
      th_chunked_state init = TH_CHUNKED_STATE_INIT;
      c->chunked = init;
      c->state = READ_CHUNKED;
      break;
    }
  }
}

/* Reads the head in bytes[0, len): false when more bytes are needed first. */
static bool feed_head(struct conn *c, const uint8_t *bytes, size_t len) {
  /* Call the core on a head's first bytes (refuses garbage at once), then only when the
   * bytes not searched yet may end the head, or when they reach the limit: linear work
   * however the head arrives. */
  size_t from = c->searched >= 2 ? c->searched - 2 : 0;
  if (from < c->search_from) from = c->search_from;
  if (c->head_called && len < limits.max_head_bytes && !th_may_end_head(bytes, len, from)) {
    c->searched = len;
    return false;
  }
  c->head_called = true;
  stat_parse_calls++;
  stat_parse_bytes += len;
  th_result r = th_parse_head(core, bytes, len, &limits, &parsed);
  if (r == TH_INCOMPLETE) {
    c->search_from = parsed.search_from;
    c->searched = len;
    return false;
  }
  if (r == TH_COMPLETE) start_request(c, bytes);
  else if (r == TH_INVALID) refuse(c, &parsed.rejection);
  else respond(c, 500, "the protocol core failed\n", true);
  return true;
}

/* Reads a chunked body: false when more bytes are needed first. */
static bool feed_chunked(struct conn *c, const uint8_t *bytes, size_t len) {
  th_result r = th_decode_chunked(core, bytes, len, &c->chunked, &limits, &decoded);
  if (r == TH_INVALID) {
    refuse(c, &decoded.rejection);
    return true;
  }
  if (r != TH_OK) {
    respond(c, 500, "the protocol core failed\n", true);
    return true;
  }
  for (uint32_t i = 0; i < decoded.data_count; i++) c->body_bytes += decoded.data[i].len;
  c->in_start += decoded.consumed;
  c->chunked = decoded.state;
  if (c->chunked.phase == TH_PHASE_DONE) answer(c);
  /* Nothing used: the rest is an incomplete line. */
  return decoded.consumed > 0;
}

/* Handles every complete request in the input, in order (pipelining). */
static void process(struct conn *c) {
  while (c->out_len - c->out_sent < OUT_HIGH) {
    const uint8_t *bytes = c->in + c->in_start;
    size_t len = c->in_len - c->in_start;
    if (c->state == READ_HEAD) {
      if (len == 0 || !feed_head(c, bytes, len)) return;
    } else if (c->state == READ_LENGTH) {
      if (len == 0) return;
      size_t take = c->remaining < len ? (size_t)c->remaining : len;
      c->in_start += take;
      c->body_bytes += take;
      c->remaining -= take;
      if (c->remaining == 0) answer(c);
    } else if (c->state == READ_CHUNKED) {
      if (len == 0 || !feed_chunked(c, bytes, len)) return;
    } else {
      return;
    }
  }
}

static void on_readable(struct conn *c) {
  if (c->in_start > 0) { /* keep unread bytes at the front */
    memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
    c->in_len -= c->in_start;
    c->in_start = 0;
  }
  c->in = grow(c->in, &c->in_cap, c->in_len + READ_SIZE);
  ssize_t n = recv(c->fd, c->in + c->in_len, READ_SIZE, 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    c->eof = true;
    if (c->state == LINGERING) c->state = CLOSING;
    return;
  }
  if (c->state == LINGERING) return; /* dropped */
  stat_reads++;
  c->in_len += (size_t)n;
  process(c);
}

static void on_writable(struct conn *c) {
  ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    c->eof = true;
    c->state = CLOSING;
    c->out_sent = c->out_len = 0;
    return;
  }
  c->out_sent += (size_t)n;
  if (c->out_sent == c->out_len) {
    c->out_sent = c->out_len = 0;
    process(c); /* input held back by backpressure */
  }
}

static void free_conn(struct conn *c) {
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  bool stats = argc > 2 && strcmp(argv[2], "--stats") == 0;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  core = th_core_new();
  if (core == NULL) return 1;
  limits = th_limits_default();

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 64) != 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
    perror("server: listen");
    return 1;
  }
  printf("listening on http://127.0.0.1:%u/\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct conn *conns[MAX_CONNS];
  struct pollfd fds[MAX_CONNS + 1];
  size_t count = 0;
  while (!stopping) {
    time_t now = time(NULL);
    th_imf_fixdate(now, date);
    fds[0] = (struct pollfd){.fd = lfd, .events = count < MAX_CONNS ? POLLIN : 0};
    for (size_t i = 0; i < count; i++) {
      struct conn *c = conns[i];
      short ev = 0;
      bool pending = c->out_len > c->out_sent;
      if (pending) ev |= POLLOUT;
      if (!c->eof && (c->state == LINGERING || (c->state != CLOSING && !pending))) ev |= POLLIN;
      fds[i + 1] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    if (poll(fds, count + 1, 1000) < 0) {
      if (errno == EINTR) continue;
      perror("server: poll");
      break;
    }
    for (size_t i = 0; i < count; i++) {
      struct conn *c = conns[i];
      short re = fds[i + 1].revents;
      if (re & POLLOUT) on_writable(c);
      if (re & (POLLIN | POLLHUP | POLLERR)) on_readable(c);
      bool flushed = c->out_len == c->out_sent;
      if (c->state == CLOSING && flushed && !c->eof) {
        /* Say we're done, then drop what the client still sends until it closes. */
        shutdown(c->fd, SHUT_WR);
        c->state = LINGERING;
        c->linger_until = now + LINGER_SECONDS;
      }
      bool done = (c->eof && flushed) || (c->state == LINGERING && now > c->linger_until);
      if (done) {
        free_conn(c);
        conns[i] = conns[--count];
        fds[i + 1] = fds[count + 1];
        i--;
      }
    }
    if (fds[0].revents & POLLIN) {
      int fd = accept(lfd, NULL, NULL);
      if (fd >= 0) {
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
          close(fd);
          continue;
        }
        c->fd = fd;
        c->state = READ_HEAD;
        conns[count++] = c;
      }
    }
  }
  for (size_t i = 0; i < count; i++) free_conn(conns[i]);
  close(lfd);
  th_parse_result_free(&parsed);
  th_decode_result_free(&decoded);
  th_framed_head_free(&framed);
  th_core_free(core);
  if (stats) printf("reads %llu, parse-head calls %llu, bytes parsed %llu\n", stat_reads, stat_parse_calls, stat_parse_bytes);
  return 0;
}
