/**
 * The values exchanged with the protocol core, as TypeScript types. They follow the WIT
 * contract (`wit/tophat.wit`) one to one, in the shapes jco gives them (variants are
 * `{ tag, val }`, enums are their kebab-case names), except that 64-bit integers that
 * are bounded by 2^53 - 1 (content lengths) are `number`.
 * @module
 */

/** A byte range `[start, start + len)` in the bytes passed to the call. */
export interface Span {
  /** Offset of the first byte, from the start of the bytes passed to the call. */
  start: number;
  /** Length in bytes (may be 0). */
  len: number;
}

/** Limits the core enforces; see `limits` in the WIT for what each bounds. */
export interface Limits {
  /**
   * Most bytes a request head may take (request line, fields, the final empty line and any
   * empty lines skipped before it); also bounds a chunked body's trailer section. Over it:
   * `head-too-large`, 431. Default 16384.
   */
  maxHeadBytes: number;
  /** Most header fields in a head (and trailer fields in a trailer section). Over it: `too-many-headers`, 431. Default 100. */
  maxHeaders: number;
  /** Longest request-target, in bytes. Over it: `target-too-long`, 414. Default 8192. */
  maxTargetLength: number;
  /** Longest chunk extension (everything between a chunk size and its CRLF), in bytes. Over it: `chunk-extension-too-long`, 400. Default 1024. */
  maxChunkExtensionLength: number;
}

/** The defaults the WIT suggests. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxHeadBytes: 16 * 1024,
  maxHeaders: 100,
  maxTargetLength: 8 * 1024,
  maxChunkExtensionLength: 1024,
});

/** Rejection reasons, in the order of the WIT enum `reject-reason`. */
export const REJECT_REASONS = [
  "bad-line-ending",
  "bad-method",
  "bad-request-line",
  "bad-target",
  "fragment-in-target",
  "target-too-long",
  "bad-version",
  "unsupported-version",
  "bad-header-name",
  "space-before-colon",
  "obs-fold",
  "bad-header-value",
  "head-too-large",
  "too-many-headers",
  "missing-host",
  "multiple-host",
  "bad-host",
  "bad-content-length",
  "conflicting-content-length",
  "bad-transfer-encoding",
  "unsupported-transfer-coding",
  "transfer-encoding-in-http10",
  "content-length-with-transfer-encoding",
  "unsupported-expectation",
  "bad-chunk-size",
  "chunk-size-overflow",
  "bad-chunk-extension",
  "chunk-extension-too-long",
  "bad-chunk-terminator",
] as const;
/**
 * Why the core refused a request. Each reason maps to one status code (given in
 * {@link Rejection.status}); `wit/tophat.wit` documents every reason and where the core is
 * stricter than RFC 9112 (to close request-smuggling gaps).
 */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A refused request: why, the status to answer with, and where in the bytes. */
export interface Rejection {
  /** What was wrong. */
  reason: RejectReason;
  /** The status code to answer with (400, 414, 417, 431, 501 or 505) before closing the connection. */
  status: number;
  /** Byte offset, into the bytes passed to the call, where the problem was found. */
  offset: number;
}

/** The HTTP version of a request: HTTP/1.0 or HTTP/1.1 (1.2–1.9 are parsed as 1.1; another major version is refused with 505). */
export type HttpVersion = "http10" | "http11";

/** How a request body is delimited, from its Content-Length and Transfer-Encoding fields. */
export type BodyFraming =
  | {
      /** No body: neither Content-Length nor Transfer-Encoding was sent. */
      tag: "none";
    }
  | {
      /** Exactly `val` bytes of body follow the head. */
      tag: "content-length";
      /** The body length in bytes (at most 2^53 - 1). */
      val: number;
    }
  | {
      /** A chunked body follows the head: feed it to `Core.decodeChunked`. */
      tag: "chunked";
    };

/**
 * A parsed request head. `headers` holds four numbers per field line, in wire order:
 * name start, name length, value start, value length. (A flat array of small integers
 * is much cheaper to build than an object per span; a typed array of more than 64 bytes
 * costs microseconds to allocate.)
 */
export interface RequestHead {
  /** The method token, case-sensitive as sent (`GET`, `PROPFIND`, …). */
  method: Span;
  /** The raw request-target as sent. */
  target: Span;
  /**
   * The path part of the target: up to `?` for origin-form; the path after the authority for
   * absolute-form (empty means `/`); `*` for asterisk-form; empty for authority-form (CONNECT).
   */
  path: Span;
  /** The query after `?` (without the `?`), or undefined when the target has none. */
  query: Span | undefined;
  /**
   * The authority of an absolute-form or authority-form target, or undefined. When present
   * it names the target host instead of the Host field (RFC 9112 §3.2.2).
   */
  authority: Span | undefined;
  /** The request's HTTP version. */
  version: HttpVersion;
  /** Every field line in wire order, four numbers each (see above); names keep the case the client sent, values exclude surrounding whitespace. */
  headers: number[];
  /** Bytes from the start of the input to the end of the head's final empty line: the body (or the next request) starts here. */
  headLength: number;
  /** How the body is delimited. */
  body: BodyFraming;
  /** Whether the connection may stay open after this exchange: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`. */
  keepAlive: boolean;
  /** `Expect: 100-continue` was sent (ignored for HTTP/1.0, RFC 9110 §10.1.1). */
  expectContinue: boolean;
  /** A non-empty Upgrade field was sent together with the `upgrade` connection option. */
  upgrade: boolean;
}

/** The outcome of `Core.parseHead`: more bytes needed, a whole valid head, or a refusal. */
export type ParseOutcome =
  | {
      /**
       * The bytes are a valid prefix of a head: call again with more bytes, once the bytes
       * from `val` on hold `LF CR LF` or `LF LF`, or reach `maxHeadBytes` (see `parse-head`
       * in the WIT: calling earlier cannot complete the head).
       */
      tag: "incomplete";
      /** The offset before which the head cannot end (`search-from` in the WIT). */
      val: number;
    }
  | {
      /** A whole, valid head. */
      tag: "complete";
      /** The parsed head; its spans point into the bytes passed. */
      val: RequestHead;
    }
  | {
      /** Not a valid request. */
      tag: "invalid";
      /** Why; answer with its `status` and close the connection. */
      val: Rejection;
    };

/** The chunked decoder's phases, in the order of the WIT enum `chunked-phase`. */
export const CHUNKED_PHASES = ["size-line", "data", "data-end", "trailers", "done"] as const;
/**
 * Where the chunked decoder is in a body: expecting a chunk-size line (`size-line`, the
 * initial phase), inside chunk data (`data`), expecting the CRLF after chunk data
 * (`data-end`), reading trailer fields or the final empty line (`trailers`), or finished (`done`).
 */
export type ChunkedPhase = (typeof CHUNKED_PHASES)[number];

/** The chunked decoder's state, carried by the host between calls. */
export interface ChunkedState {
  /** Where the decoder is in the body; `done` once the body is complete. */
  phase: ChunkedPhase;
  /** Bytes left in the current chunk (a chunk may announce up to 2^64 - 1). */
  remaining: bigint;
  /** Bytes of trailer section consumed so far (bounded by {@link Limits.maxHeadBytes}). */
  trailerBytes: number;
  /** Trailer fields seen so far (bounded by {@link Limits.maxHeaders}). */
  trailerCount: number;
}

/** The state to start decoding a chunked body with. */
export function initialChunkedState(): ChunkedState {
  return { phase: "size-line", remaining: 0n, trailerBytes: 0, trailerCount: 0 };
}

/** What one `Core.decodeChunked` call decoded. */
export interface ChunkedProgress {
  /** Bytes used; keep the rest and pass it again with more. */
  consumed: number;
  /** Body data, as spans into the bytes passed. */
  data: Span[];
  /** Trailer fields completed in this call, four numbers each as in `RequestHead.headers`. */
  trailers: number[];
  /** The state to pass to the next call. */
  state: ChunkedState;
}

/** The outcome of `Core.decodeChunked`: progress (possibly none yet), or a refusal. */
export type ChunkedOutcome =
  | {
      /** The bytes were valid so far. */
      tag: "progress";
      /** What was decoded and the state to continue from. */
      val: ChunkedProgress;
    }
  | {
      /** The body is malformed or over a limit. */
      tag: "invalid";
      /** Why; answer with its `status` (if nothing was sent yet) and close the connection. */
      val: Rejection;
    };

/** A response field. */
export interface Field {
  /** The field name; must be a token (`bad-header-name` otherwise). */
  name: string;
  /** The field value; must not hold CR, LF, NUL or other control bytes but HTAB (`bad-header-value` otherwise). */
  value: string;
}

/** What the framer needs to know about the request being answered. */
export interface RequestContext {
  /** The request was HEAD: frame the head only (its Content-Length is still announced). */
  head: boolean;
  /** The request was HTTP/1.0: no chunked coding, no 1xx, and keep-alive must be announced. */
  http10: boolean;
  /** The connection closes after this response (the client asked, the server is shutting down, or the request could not be read to its end). */
  close: boolean;
  /**
   * The request was CONNECT (default false): a 2xx response opens a tunnel, framed with no
   * Content-Length, Transfer-Encoding or Connection field, body mode `none` and `close`
   * false (RFC 9110 §9.3.6; `connect` in the WIT's `request-context`).
   */
  connect?: boolean;
}

/** A response to frame. */
export interface ResponseHead {
  /** The status code, 100–999 (`bad-status` otherwise; a 1xx for an HTTP/1.0 client is `bad-status` too). */
  status: number;
  /** The reason phrase; default: the standard one for the status (or empty). */
  reason?: string | undefined;
  /** Fields in the order to send them. The framer adds Date, the body framing field and Connection as needed. */
  headers: Field[];
  /** Known body length, or undefined for a streamed body of unknown length. */
  bodyLength?: number | undefined;
}

/**
 * How the body must be written after a framed head: not at all (`none`: HEAD, 1xx, 204, 304
 * or an empty body), exactly `contentLength` raw bytes (`content-length`), as chunks
 * (`chunked`), or as raw bytes until the connection closes (`close-delimited`: HTTP/1.0 with
 * unknown length).
 */
export type BodyMode = "none" | "content-length" | "chunked" | "close-delimited";
/** The body modes, in the order of the WIT enum `body-mode`. */
export const BODY_MODES: readonly BodyMode[] = ["none", "content-length", "chunked", "close-delimited"];

/** A framed response head, from `Core.frameHead`. */
export interface FramedHead {
  /** The status line, the fields and the final empty line, ready for the wire (owned by the caller). */
  bytes: Uint8Array;
  /** How to write the body after the head. */
  body: BodyMode;
  /** The body length in bytes the head announces: the bytes to write in `content-length` mode (HEAD and 304 responses may announce one without a body); 0 when none is announced. */
  contentLength: number;
  /** The connection must close after this response. */
  close: boolean;
}

/**
 * A framed head with the body right behind it, from `Core.frameMessage` (not a WIT type:
 * the binding's convenience for writing a whole response at once).
 */
export interface FramedMessage extends Omit<FramedHead, "bytes"> {
  /** The head's bytes, then the body's when the framing carries one (not for HEAD, 204, 304). */
  bytes: Uint8Array;
  /** Where the head ends in `bytes`. */
  headLength: number;
}

/** The outcome of `Core.frameMessage`: the whole message's bytes, or why the response cannot be framed. */
export type MessageOutcome =
  | {
      /** The response was framed. */
      tag: "message";
      /** The head and body bytes, and how they were framed. */
      val: FramedMessage;
    }
  | {
      /** The response cannot be framed; nothing was produced. */
      tag: "invalid";
      /** Why. */
      val: FrameError;
    };

/** Frame error reasons, in the order of the WIT enum `frame-error-reason`. */
export const FRAME_ERROR_REASONS = [
  "bad-status",
  "bad-reason",
  "bad-header-name",
  "bad-header-value",
  "bad-content-length",
  "bad-transfer-encoding",
  "body-not-allowed",
] as const;
/**
 * Why a response could not be framed: a status outside 100–999 or a 1xx for HTTP/1.0
 * (`bad-status`), a control byte in the reason phrase (`bad-reason`), an invalid field name
 * or value, a Content-Length or Transfer-Encoding field that conflicts with the framing, or
 * a body (or body field) on a status that allows none (`body-not-allowed`).
 */
export type FrameErrorReason = (typeof FRAME_ERROR_REASONS)[number];

/** Why a response could not be framed, and which field was at fault. */
export interface FrameError {
  /** What was wrong. */
  reason: FrameErrorReason;
  /** The index in {@link ResponseHead.headers} (or the trailers) of the offending field, or undefined when no single field is. */
  headerIndex: number | undefined;
}

/** The outcome of `Core.frameHead`: the framed head, or why the response cannot be framed. */
export type FrameOutcome =
  | {
      /** The head was framed. */
      tag: "head";
      /** Its bytes and how to write the body. */
      val: FramedHead;
    }
  | {
      /** The response cannot be framed; nothing was produced. */
      tag: "invalid";
      /** Why. */
      val: FrameError;
    };

/** The outcome of `Core.lastChunk`: the bytes that end a chunked body, or why a trailer field is invalid. */
export type TrailerOutcome =
  | {
      /** The trailers were framed. */
      tag: "bytes";
      /** The last chunk, the trailer fields and the final CRLF. */
      val: Uint8Array;
    }
  | {
      /** A trailer field is invalid; nothing was produced. */
      tag: "invalid";
      /** Why, with `headerIndex` the index in the trailers. */
      val: FrameError;
    };
