/**
 * `otel()`: an OpenTelemetry server span per request, as middleware.
 * @module
 */
import type { Handler } from "../../connection/index.js";
import { Glitch } from "../../http/glitch.js";
import { ClientClosedError, HandlerTimeoutError } from "../../http/http-error.js";
import type { Request } from "../../http/request.js";
import type { ResponseWritten } from "../../http/response-written.js";
import type { OtelApi, OtelAttributeValue, OtelGetter, OtelSpan, OtelTracer } from "./api.js";

/** Options of {@link otel}. */
export interface OtelOptions {
  /** The `@opentelemetry/api` module: `import * as api from "@opentelemetry/api"`. */
  api: OtelApi;
  /** The tracer to start spans with. Default: `api.trace.getTracer("tophat")`. */
  tracer?: OtelTracer;
  /** Requests to leave untraced (health checks, metrics scrapes): they get no span. */
  ignore?: (req: Request) => boolean;
}

/** Methods the semantic conventions know; any other is reported as `_OTHER`. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"]);

/** Reads the request's header fields for the propagator (`traceparent`, `tracestate`, `baggage`). */
const getter: OtelGetter<Request> = {
  keys: (req) => [...new Set([...req.headers.entries()].map(([name]) => name.toLowerCase()))],
  get: (req, key) => {
    const values = req.headers.getAll(key);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

/**
 * Middleware that makes one OpenTelemetry SERVER span per request, with the stable HTTP
 * semantic conventions, and runs the handler inside it (so the handler's own spans — a
 * database call — are its children).
 *
 * - Its parent is the incoming trace: the context is extracted from `traceparent` (and
 *   `tracestate`, `baggage`) by the globally registered propagator.
 * - At the start: `http.request.method` (`_OTHER` plus `http.request.method_original` for
 *   an unknown method), `url.path`, `url.query`, `url.scheme`, `server.address`,
 *   `server.port`, `client.address`, `network.peer.address`, `network.protocol.version`,
 *   `user_agent.original`, `http.request.body.size` (its Content-Length). With
 *   `trustProxy`, the scheme, host and client are the forwarded ones.
 * - At the end, from the `ResponseWritten`: `http.response.status_code`,
 *   `http.response.body.size` (`bodyBytes`: for a chunked body, framing included), and
 *   `http.route` when a {@link Router} route matched (the span is then renamed
 *   `GET /users/:id`; before, it is named after the method).
 * - Failures: a 5xx, a thrown error (the library answers 500, or the Glitch's status), a
 *   response that didn't complete (`outcome` `client-closed` or `error`) and a handler
 *   timeout set the span's status to ERROR and `error.type` (the error's name, or the
 *   status code). A thrown error that isn't a 4xx Glitch is recorded as an exception. A
 *   4xx is not a server error: the status stays unset.
 *
 * Put it outermost (`compose(otel({ api }), …)(router.route)`) so the span covers the
 * other middleware. Requests the library refuses before any handler runs (a malformed
 * head) get no span: subscribe to the `tophat.server.response.finish` diagnostics channel
 * to count those.
 *
 * ```ts
 * import * as api from "@opentelemetry/api";
 * await serve(compose(otel({ api }), cors())(router.route));
 * ```
 */
export function otel(options: OtelOptions): (next: Handler) => Handler {
  const { api, ignore } = options;
  const tracer = options.tracer ?? api.trace.getTracer("tophat");
  return (next) => async (req, res) => {
    if (ignore?.(req)) return next(req, res);
    const parent = api.propagation.extract(api.context.active(), req, getter);
    const method = KNOWN_METHODS.has(req.method) ? req.method : "_OTHER";
    const span = tracer.startSpan(method === "_OTHER" ? "HTTP" : method, { kind: api.SpanKind.SERVER, attributes: requestAttributes(req, method) }, parent);
    let ended = false;
    const end = (): void => {
      ended = true;
      req.signal.removeEventListener("abort", onAbort);
      span.end();
    };
    // A handler that made no progress for handlerTimeoutMs may never settle: the 503 the
    // library sent in its place (or the cut-off response it had begun) ends the span.
    const onAbort = (): void => {
      const reason: unknown = req.signal.reason;
      if (ended || !(reason instanceof HandlerTimeoutError)) return;
      span.setAttribute("http.response.status_code", res.sent ? res.status : 503);
      failed(span, api, reason.name, reason.message);
      end();
    };
    req.signal.addEventListener("abort", onAbort);
    let written: ResponseWritten;
    try {
      written = await api.context.with(api.trace.setSpan(parent, span), () => next(req, res));
    } catch (error) {
      if (!ended) {
        routeOf(span, req, method);
        thrown(span, api, error);
        end();
      }
      throw error;
    }
    if (!ended) {
      routeOf(span, req, method);
      responded(span, api, written);
      end();
    }
    return written;
  };
}

function requestAttributes(req: Request, method: string): Record<string, OtelAttributeValue> {
  const attributes: Record<string, OtelAttributeValue> = {
    "http.request.method": method,
    "url.path": req.path,
    "url.scheme": req.protocol,
    "network.protocol.version": req.httpVersion,
  };
  if (method === "_OTHER") attributes["http.request.method_original"] = req.method;
  const q = req.target.indexOf("?");
  if (q !== -1) attributes["url.query"] = req.target.slice(q + 1);
  const host = splitHost(req.host);
  if (host) {
    attributes["server.address"] = host.address;
    if (host.port !== undefined) attributes["server.port"] = host.port;
  }
  if (req.clientIp !== undefined) attributes["client.address"] = req.clientIp;
  if (req.remoteAddress !== undefined) attributes["network.peer.address"] = req.remoteAddress;
  const agent = req.headers.get("user-agent");
  if (agent !== undefined) attributes["user_agent.original"] = agent;
  const length = req.headers.get("content-length");
  if (length !== undefined && /^\d+$/.test(length)) attributes["http.request.body.size"] = Number(length);
  return attributes;
}

/** `example.com:8080` → address and port; `[::1]:80` → `::1` and 80. */
function splitHost(host: string | undefined): { address: string; port: number | undefined } | undefined {
  if (host === undefined || host === "") return undefined;
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host);
  if (m === null) return undefined;
  const address = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return { address, port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Names the span after its route, once the router found one. */
function routeOf(span: OtelSpan, req: Request, method: string): void {
  if (req.route === undefined) return;
  span.setAttribute("http.route", req.route);
  span.updateName(`${method === "_OTHER" ? "HTTP" : method} ${req.route}`);
}

function responded(span: OtelSpan, api: OtelApi, written: ResponseWritten): void {
  span.setAttribute("http.response.status_code", written.status);
  span.setAttribute("http.response.body.size", written.bodyBytes);
  if (written.outcome !== "complete") failed(span, api, written.error?.name ?? written.outcome, written.error?.message ?? written.outcome);
  else if (written.status >= 500) failed(span, api, String(written.status), undefined);
}

/** The handler threw: the library answers with the Glitch's status, or 500 (unless the client is gone). */
function thrown(span: OtelSpan, api: OtelApi, error: unknown): void {
  if (error instanceof ClientClosedError) return failed(span, api, error.name, error.message);
  const status = error instanceof Glitch ? error.status : 500;
  span.setAttribute("http.response.status_code", status);
  if (status < 500) return;
  if (error instanceof Error) span.recordException(error);
  failed(span, api, error instanceof Glitch ? String(status) : errorName(error), error instanceof Error ? error.message : undefined);
}

function failed(span: OtelSpan, api: OtelApi, type: string, message: string | undefined): void {
  span.setAttribute("error.type", type);
  span.setStatus(message === undefined ? { code: api.SpanStatusCode.ERROR } : { code: api.SpanStatusCode.ERROR, message });
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.constructor.name || error.name;
  return typeof error;
}
