/**
 * `node:diagnostics_channel` events: what APM agents and tracers subscribe to, since
 * Tophat's requests never pass through node:http's own channels. Named like node:http's
 * (`http.server.request.start`, `http.server.response.finish`) under a `tophat.` prefix.
 *
 * Every publisher checks `hasSubscribers` before it builds a message: with no subscriber
 * an event costs one property read.
 * @module
 */
import diagnostics from "node:diagnostics_channel";
import type { Request } from "../http/request.js";
import type { ResponseWriter } from "../http/response-writer.js";
import type { ResponseWritten } from "../http/response-written.js";

/**
 * The names of the channels Tophat publishes on; subscribe with
 * `diagnostics_channel.subscribe(tophatChannels.requestStart, listener)`.
 *
 * Listeners run synchronously, in the middle of serving the request: keep them short. A
 * listener that throws doesn't disturb the request, but Node reports its error as an
 * uncaught exception on the next turn (that is how `diagnostics_channel` treats them).
 */
export const tophatChannels = {
  /** A request is about to be handed to the handler: {@link RequestStartMessage}. */
  requestStart: "tophat.server.request.start",
  /** A response's head was handed to the transport: {@link ResponseHeadMessage}. */
  responseHead: "tophat.server.response.head",
  /** A response is over (the moment `onResponse` is called): {@link ResponseFinishMessage}. */
  responseFinish: "tophat.server.response.finish",
  /** A handler threw or rejected: {@link RequestErrorMessage}. */
  requestError: "tophat.server.request.error",
} as const;

/** The message on `tophat.server.request.start`: published just before the handler is called. */
export interface RequestStartMessage {
  /** The request (its head is parsed; its body is unread). */
  readonly request: Request;
  /** The response the handler will write (nothing sent yet). */
  readonly response: ResponseWriter;
}

/**
 * The message on `tophat.server.response.head`: published when a response's head (status
 * line and fields) is handed to the transport, for handler responses and the library's own
 * error responses alike. `response.status` and `response.getHeader()` give what was sent.
 */
export interface ResponseHeadMessage {
  /** The request; undefined for the error response to a head that couldn't be parsed. */
  readonly request: Request | undefined;
  /** The response whose head went out. */
  readonly response: ResponseWriter;
}

/**
 * The message on `tophat.server.response.finish`: published once per response when it is
 * over — every byte flushed, the client gone, or a failure — with what was really written.
 * Published for the library's own error responses too (a handler's 500, a refused head).
 */
export interface ResponseFinishMessage {
  /** The request; undefined for the error response to a head that couldn't be parsed. */
  readonly request: Request | undefined;
  /** The response that was written. */
  readonly response: ResponseWriter | undefined;
  /** What went on the wire: status, bytes, timings, `outcome` and `error`. */
  readonly written: ResponseWritten;
}

/**
 * The message on `tophat.server.request.error`: published when a handler throws or
 * rejects, before the library answers for it (a Glitch's status, or 500) — or, if the
 * handler had already sent, after. A 4xx Glitch is published too: subscribers tell a
 * client's error from a failure by `error` (`Glitch.status`).
 */
export interface RequestErrorMessage {
  /** The request whose handler failed. */
  readonly request: Request;
  /** What the handler threw or rejected with (usually an `Error`; JavaScript allows anything). */
  readonly error: unknown;
}

const start = diagnostics.channel(tophatChannels.requestStart);
const head = diagnostics.channel(tophatChannels.responseHead);
const finish = diagnostics.channel(tophatChannels.responseFinish);
const failure = diagnostics.channel(tophatChannels.requestError);

/** Publishes on `tophat.server.request.start` (if anyone listens). */
export function publishRequestStart(request: Request, response: ResponseWriter): void {
  if (start.hasSubscribers) start.publish({ request, response } satisfies RequestStartMessage);
}

/** Publishes on `tophat.server.response.head` (if anyone listens). */
export function publishResponseHead(request: Request | undefined, response: ResponseWriter | undefined): void {
  // (Every exchange that writes has its writer; a missing one would be a library bug, not worth a message.)
  if (head.hasSubscribers && response !== undefined) head.publish({ request, response } satisfies ResponseHeadMessage);
}

/** Publishes on `tophat.server.response.finish` (if anyone listens). */
export function publishResponseFinish(request: Request | undefined, response: ResponseWriter | undefined, written: ResponseWritten): void {
  if (finish.hasSubscribers) finish.publish({ request, response, written } satisfies ResponseFinishMessage);
}

/** Publishes on `tophat.server.request.error` (if anyone listens). */
export function publishRequestError(request: Request, error: unknown): void {
  if (failure.hasSubscribers) failure.publish({ request, error } satisfies RequestErrorMessage);
}
