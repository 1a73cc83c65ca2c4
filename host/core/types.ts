/**
 * The values exchanged with the protocol core, as TypeScript types. They follow the WIT
 * contract (`wit/tophat.wit`) one to one, in the shapes jco gives them (variants are
 * `{ tag, val }`, enums are their kebab-case names), except that 64-bit integers that
 * are bounded by 2^53 - 1 (content lengths) are `number`.
 * @module
 */

/** A byte range `[start, start + len)` in the bytes passed to the call. */
export interface Span {
  start: number;
  len: number;
}

/** Limits the core enforces; see `limits` in the WIT for what each bounds. */
export interface Limits {
  maxHeadBytes: number;
  maxHeaders: number;
  maxTargetLength: number;
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
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A refused request: why, the status to answer with, and where in the bytes. */
export interface Rejection {
  reason: RejectReason;
  status: number;
  offset: number;
}

export type HttpVersion = "http10" | "http11";

export type BodyFraming =
  | { tag: "none" }
  | { tag: "content-length"; val: number }
  | { tag: "chunked" };

/**
 * A parsed request head. `headers` holds four numbers per field line, in wire order:
 * name start, name length, value start, value length. (A flat array of small integers
 * is much cheaper to build than an object per span; a typed array of more than 64 bytes
 * costs microseconds to allocate.)
 */
export interface RequestHead {
  method: Span;
  target: Span;
  path: Span;
  query: Span | undefined;
  authority: Span | undefined;
  version: HttpVersion;
  headers: number[];
  headLength: number;
  body: BodyFraming;
  keepAlive: boolean;
  expectContinue: boolean;
  upgrade: boolean;
}

export type ParseOutcome =
  | { tag: "incomplete" }
  | { tag: "complete"; val: RequestHead }
  | { tag: "invalid"; val: Rejection };

export const CHUNKED_PHASES = ["size-line", "data", "data-end", "trailers", "done"] as const;
export type ChunkedPhase = (typeof CHUNKED_PHASES)[number];

/** The chunked decoder's state, carried by the host between calls. */
export interface ChunkedState {
  phase: ChunkedPhase;
  /** Bytes left in the current chunk (a chunk may announce up to 2^64 - 1). */
  remaining: bigint;
  trailerBytes: number;
  trailerCount: number;
}

/** The state to start decoding a chunked body with. */
export function initialChunkedState(): ChunkedState {
  return { phase: "size-line", remaining: 0n, trailerBytes: 0, trailerCount: 0 };
}

export interface ChunkedProgress {
  /** Bytes used; keep the rest and pass it again with more. */
  consumed: number;
  /** Body data, as spans into the bytes passed. */
  data: Span[];
  /** Trailer fields completed in this call, four numbers each as in `RequestHead.headers`. */
  trailers: number[];
  state: ChunkedState;
}

export type ChunkedOutcome =
  | { tag: "progress"; val: ChunkedProgress }
  | { tag: "invalid"; val: Rejection };

/** A response field. */
export interface Field {
  name: string;
  value: string;
}

export interface RequestContext {
  head: boolean;
  http10: boolean;
  close: boolean;
}

export interface ResponseHead {
  status: number;
  reason?: string | undefined;
  headers: Field[];
  /** Known body length, or undefined for a streamed body of unknown length. */
  bodyLength?: number | undefined;
}

export type BodyMode = "none" | "content-length" | "chunked" | "close-delimited";
export const BODY_MODES: readonly BodyMode[] = ["none", "content-length", "chunked", "close-delimited"];

export interface FramedHead {
  bytes: Uint8Array;
  body: BodyMode;
  contentLength: number;
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

export type MessageOutcome =
  | { tag: "message"; val: FramedMessage }
  | { tag: "invalid"; val: FrameError };

export const FRAME_ERROR_REASONS = [
  "bad-status",
  "bad-reason",
  "bad-header-name",
  "bad-header-value",
  "bad-content-length",
  "bad-transfer-encoding",
  "body-not-allowed",
] as const;
export type FrameErrorReason = (typeof FRAME_ERROR_REASONS)[number];

export interface FrameError {
  reason: FrameErrorReason;
  headerIndex: number | undefined;
}

export type FrameOutcome =
  | { tag: "head"; val: FramedHead }
  | { tag: "invalid"; val: FrameError };

export type TrailerOutcome =
  | { tag: "bytes"; val: Uint8Array }
  | { tag: "invalid"; val: FrameError };
