/**
 * The request a handler receives: the head (decoded lazily) and the body (streamed with
 * backpressure, or read whole up to a cap).
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { RequestHead } from "../core/index.js";
import { Headers } from "./headers.js";
import { Glitch } from "./glitch.js";
import { resolveOrigin, type RequestOrigin } from "./forwarded.js";
import { RequestHeadView } from "./request-head.js";
import { cappedChunks } from "./body/capped.js";
import { fieldsObject } from "./body/form.js";
import { requireMediaType } from "./body/media-type.js";
import { readMultipart, type MultipartOptions, type MultipartPart } from "./body/multipart.js";
import { validate } from "./body/validation.js";

/** Where a request's body comes from: implemented by the connection. */
export interface BodySource {
  /** The next piece of the body, or null at its end. Throws `Glitch` (400, 408) or `ClientClosedError`. */
  read(): Promise<Uint8Array | null>;
  /** The Content-Length, when the body has one. */
  readonly declaredLength: number | undefined;
  /** The trailer fields, once a chunked body was read to its end. */
  readonly trailers: Headers | undefined;
}

/** What the connection knows about a request besides its bytes. */
export interface RequestContext {
  readonly remoteAddress: string | undefined;
  /** Whether the transport is TLS. */
  readonly encrypted: boolean;
  /** Whether a peer is a trusted proxy (the `trustProxy` option); undefined when none is. */
  readonly trustProxy: ((address: string) => boolean) | undefined;
  /** Makes (once) the signal that fires when the client goes away. */
  signal(): AbortSignal;
  /** The cap for `bytes()`, `text()` and `json()`. */
  readonly maxBodyBytes: number;
}

const EMPTY_TRAILERS = new Headers(Buffer.alloc(0), []);
const NO_PARAMS: object = Object.freeze({});
/** A body piece as `req.body`'s iterator gives it (null: the end). */
function iteratorResult(chunk: Uint8Array | null): IteratorResult<Uint8Array> {
  return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
}

/** An HTTP request. */
export class Request {
  readonly #view: RequestHeadView;
  readonly #source: BodySource;
  readonly #context: RequestContext;
  #bodyTaken = false;
  #query: URLSearchParams | undefined;
  /**
   * Path parameters (percent-decoded), set by the router for the route that matched; its
   * handlers see them typed from the pattern (`RoutedRequest`).
   */
  params: object = NO_PARAMS;
  /** The application state of the router whose route matched (see `Router`). */
  state: unknown = undefined;
  /**
   * The pattern of the route that matched (`/users/:id`, mount prefixes included), set by
   * the router; undefined before routing or when no route matched. For logs and traces
   * (OpenTelemetry's `http.route`): unlike the path, it doesn't grow with every id.
   */
  route: string | undefined = undefined;
  #origin: RequestOrigin | undefined;

  /** @internal Requests are made by the connection. */
  constructor(bytes: Buffer, head: RequestHead, source: BodySource, context: RequestContext) {
    this.#view = new RequestHeadView(bytes, head);
    this.#source = source;
    this.#context = context;
  }

  /** The method, case-sensitive (`GET`, `PROPFIND`, …). */
  get method(): string {
    return this.#view.method;
  }

  /** The request-target exactly as sent. */
  get target(): string {
    return this.#view.target;
  }

  /** The path of the target (`/` for an absolute-form target without one; empty for CONNECT). */
  get path(): string {
    return this.#view.path;
  }

  /** The query parameters, parsed on first use. */
  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.#view.rawQuery ?? ""));
  }

  /** The authority of an absolute-form or CONNECT target, which takes precedence over Host. */
  get authority(): string | undefined {
    return this.#view.authority;
  }

  /** The request's HTTP version, `"1.0"` or `"1.1"` (1.2–1.9 count as 1.1; another major version is refused with 505 before a handler runs). */
  get httpVersion(): "1.0" | "1.1" {
    return this.#view.httpVersion;
  }

  /** The header fields: case-insensitive `get`, `getAll`, `has`; `entries()` in wire order. */
  get headers(): Headers {
    return this.#view.headers;
  }

  /**
   * The client's IP address as the transport reports it (a socket's `remoteAddress`, or the
   * one given with a Web Streams pair); undefined when unknown. No proxy headers are consulted.
   */
  get remoteAddress(): string | undefined {
    return this.#context.remoteAddress;
  }

  /**
   * The client's IP address: the peer's (`remoteAddress`), or — when the peer is a proxy
   * listed in the `trustProxy` option — the address its forwarding fields (`Forwarded`, or
   * `X-Forwarded-For`) give, walked from the nearest hop back to the first untrusted one.
   */
  get clientIp(): string | undefined {
    return this.#resolvedOrigin().clientIp;
  }

  /**
   * The scheme the client used: `https` over TLS, else `http` — or, from a trusted proxy
   * (`trustProxy`), its `Forwarded` `proto=` or `X-Forwarded-Proto`.
   */
  get protocol(): "http" | "https" {
    return this.#resolvedOrigin().protocol;
  }

  /**
   * The host the client asked for, as sent (it may carry a port): the target's authority
   * or the Host field — or, from a trusted proxy (`trustProxy`), its `Forwarded` `host=`
   * or `X-Forwarded-Host`.
   */
  get host(): string | undefined {
    return this.#resolvedOrigin().host;
  }

  #resolvedOrigin(): RequestOrigin {
    const context = this.#context;
    return (this.#origin ??= resolveOrigin({
      peer: context.remoteAddress,
      encrypted: context.encrypted,
      host: this.authority ?? this.headers.get("host"),
      headers: this.headers,
      trusted: context.trustProxy,
    }));
  }

  /** Fires when the client goes away before the response is complete. */
  get signal(): AbortSignal {
    return this.#context.signal();
  }

  /** The parsed head (spans, framing flags). */
  get parsed(): RequestHead {
    return this.#view.parsed;
  }

  /** The trailer fields of a chunked body, once the body was read; empty before and otherwise. */
  get trailers(): Headers {
    return this.#source.trailers ?? EMPTY_TRAILERS;
  }

  #take(): BodySource {
    if (this.#bodyTaken) throw new TypeError("the request body was already read");
    this.#bodyTaken = true;
    return this.#source;
  }

  /**
   * The body as a stream of chunks. The connection reads from the client only as fast as
   * this is consumed. Not capped by `maxBodyBytes`: the handler decides (`stream({ maxBytes })`
   * caps it).
   */
  get body(): AsyncIterable<Uint8Array> {
    const source = this.#take();
    return {
      [Symbol.asyncIterator]: () => ({
        next: (): Promise<IteratorResult<Uint8Array>> => source.read().then(iteratorResult),
      }),
    };
  }

  /**
   * The body as a stream of chunks, like `body`, capped at `maxBytes` (Infinity: no cap):
   * a Content-Length over it is refused with Glitch 413 before anything is read, and a body
   * without one fails with 413 as soon as more than `maxBytes` came.
   */
  stream(options: { maxBytes?: number } = {}): AsyncIterable<Uint8Array> {
    const max = options.maxBytes ?? Infinity;
    if (!(max >= 0)) throw new RangeError(`maxBytes must be a number ≥ 0, got ${max}`);
    const source = this.#take();
    return cappedChunks(source, max, "maxBytes");
  }

  /**
   * A `multipart/form-data` body (RFC 7578, HTML forms with files) as its parts, in order:
   * fields whole, files as streams to read or skip before the next part. Another media
   * type → Glitch 415; no or a bad boundary, a malformed body → 400; over a limit → 413
   * naming it (see {@link MultipartOptions}). The client's bytes are read only as fast as
   * the parts are consumed; files are never held whole in memory.
   *
   * ```ts
   * for await (const part of req.multipart({ maxFileBytes: 100 * 2 ** 20 })) {
   *   if (part.kind === "field") fields[part.name] = part.value;
   *   else await pipeline(part.stream, createWriteStream(tmpPath()));
   * }
   * ```
   */
  multipart(options?: MultipartOptions): AsyncIterableIterator<MultipartPart> {
    // The media type and boundary are checked before the body is taken.
    return readMultipart(this.headers, () => this.#take(), options);
  }

  /** The whole body; over `maxBodyBytes` → Glitch 413. */
  async bytes(): Promise<Uint8Array> {
    const source = this.#take();
    const max = this.#context.maxBodyBytes;
    if (source.declaredLength !== undefined && source.declaredLength > max) {
      throw new Glitch(413, `the request body is larger than ${max} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let chunk = await source.read(); chunk !== null; chunk = await source.read()) {
      total += chunk.length;
      if (total > max) throw new Glitch(413, `the request body is larger than ${max} bytes`);
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  /** The whole body as UTF-8 text (invalid sequences → 400). */
  async text(): Promise<string> {
    const bytes = await this.bytes();
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (error) {
      throw new Glitch(400, "the request body is not valid UTF-8", { cause: error });
    }
  }

  /**
   * The whole body parsed as JSON (malformed → 400); with a schema, validated by it (any
   * Standard Schema validator: zod, valibot, arktype, …): its typed output, or Glitch 422
   * listing each failing field (see {@link ValidationIssue}). The Content-Type isn't checked.
   *
   * ```ts
   * const todo = await req.json(z.object({ title: z.string().min(1) })); // { title: string }
   * ```
   */
  async json(): Promise<unknown>;
  async json<Schema extends StandardSchemaV1>(schema: Schema): Promise<StandardSchemaV1.InferOutput<Schema>>;
  async json(schema?: StandardSchemaV1): Promise<unknown> {
    const text = await this.text();
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (error) {
      throw new Glitch(400, `the request body is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    return schema === undefined ? value : validate(schema, value, "the request body");
  }

  /**
   * An `application/x-www-form-urlencoded` body (an HTML form without files) as
   * URLSearchParams, read under `maxBodyBytes` (413 beyond). Another media type → Glitch
   * 415. The bytes must be UTF-8 (400 otherwise); percent-escapes are decoded as
   * URLSearchParams does: a malformed one (`%zz`) stays as written, an escaped byte
   * sequence that isn't UTF-8 becomes U+FFFD. With a schema, the fields are validated as an
   * object (a name sent once → its string, more than once → an array of them): the typed
   * output, or Glitch 422 listing each failing field.
   */
  async form(): Promise<URLSearchParams>;
  async form<Schema extends StandardSchemaV1>(schema: Schema): Promise<StandardSchemaV1.InferOutput<Schema>>;
  async form(schema?: StandardSchemaV1): Promise<unknown> {
    requireMediaType(this.headers, "application/x-www-form-urlencoded");
    const params = new URLSearchParams(await this.text());
    return schema === undefined ? params : validate(schema, fieldsObject(params), "the form");
  }

  /**
   * The query parameters validated by a Standard Schema validator, as an object (a name
   * sent once → its string, more than once → an array of them; coerce numbers in the
   * schema): its typed output, or Glitch 422 listing each failing parameter.
   *
   * ```ts
   * const { page } = await req.validQuery(z.object({ page: z.coerce.number().int().min(1).default(1) }));
   * ```
   */
  async validQuery<Schema extends StandardSchemaV1>(schema: Schema): Promise<StandardSchemaV1.InferOutput<Schema>> {
    return validate(schema, fieldsObject(this.query), "the query");
  }
}
