/**
 * Response compression as middleware, over the writer's body-transform hook.
 * @module
 */
import type { Handler } from "../../connection/index.js";
import type { BodyTransform, TransformHead } from "../../http/body-transform.js";
import { isCompressibleType } from "./compressible.js";
import { negotiateCoding, type CompressCoding } from "./negotiate.js";
import { AVAILABLE_CODINGS, zlibTransform, type CodingSettings } from "./zlib-transform.js";

/** Options of {@link compress}. Invalid ones throw when `compress()` is called, not per request. */
export interface CompressOptions {
  /**
   * The codings to offer, best first: the order breaks ties between codings the client
   * rates equally. Default `["br", "zstd", "gzip"]` where this Node's zlib has zstd
   * (Node ≥ 22.15), else `["br", "gzip"]`. Naming `zstd` on a Node without it throws.
   */
  encodings?: readonly CompressCoding[];
  /**
   * Bodies shorter than this many bytes are sent as they are (a few hundred bytes barely
   * shrink, and the coding's header and CPU cost more than they save). Applies to whole
   * bodies and to streams that declare a Content-Length; streams of unknown length and
   * server-sent events are always compressed. Default 1024.
   */
  threshold?: number;
  /**
   * Brotli quality, 0–11. Default 4: for content made per request, qualities 4–5 compress
   * better than gzip -6 at similar speed, while 10–11 are tens of times slower (those are
   * for files compressed once, ahead of time: serveStatic's `.br` siblings).
   */
  brotliQuality?: number;
  /** gzip level, 1–9. Default 6 (zlib's own default: most of level 9's ratio at a fraction of its CPU). */
  gzipLevel?: number;
  /** zstd level, 1–19 (where zstd is available). Default 3 (zstd's own default). */
  zstdLevel?: number;
  /**
   * Whether a Content-Type is worth compressing. Default: mime-db's `compressible` flag,
   * else text/* and +json/+xml/+text; never `application/octet-stream`, images, audio,
   * video, archives or fonts already compressed (woff2).
   */
  compressible?: (contentType: string) => boolean;
  /**
   * Whole bodies up to this many bytes are compressed on the event loop; larger ones on
   * libuv's thread pool, so a big body doesn't stall other connections (brotli 4 or gzip 6
   * take roughly 1–3 ms per 100 KB; the hop to the pool costs tens of µs). Default 64 KiB.
   */
  syncLimit?: number;
}

interface Settings extends CodingSettings {
  encodings: readonly CompressCoding[];
  threshold: number;
  compressible: (contentType: string | undefined) => boolean;
}

/**
 * Compression middleware: encodes response bodies with brotli, gzip or (where the
 * running Node has it) zstd, as the request's `Accept-Encoding` allows (q-values, `*`,
 * `identity;q=0`; see {@link negotiateCoding}), through `res.transformBody()`. Whole
 * bodies, streamed bodies (with backpressure: each chunk's output reaches the socket
 * before the handler's next write resolves) and server-sent events (each event flushed
 * to the client) are compressed.
 *
 * Every response gets `Vary: Accept-Encoding` (appended to a Vary already there), since
 * whether it is compressed depends on that field. A response is left as it is when: the
 * request is HEAD; the status is 204, 206 or 304; it has a Content-Range or a
 * Content-Encoding (a precompressed file); its Cache-Control says `no-transform`; its
 * Content-Type is not compressible (or absent); its length is known and under
 * `threshold`; or the client accepts no coding offered. When the client refuses identity
 * too (`identity;q=0` and nothing else acceptable), the body is sent uncompressed rather
 * than as a 406 (RFC 9110 §12.5.3 allows either).
 *
 * A compressed response loses its Content-Length (whole bodies are framed with the
 * compressed length; streams go chunked), gets `Content-Encoding`, and a strong ETag
 * becomes weak (`W/"…"`): the encoded bytes differ from the identity ones, so a strong
 * validator would let `If-Range` splice ranges of one into the other. A 304 gets the weak
 * ETag too when a coding was negotiated and its type (if it has one) is compressible.
 *
 * ```ts
 * await serve(compress()(router.route));
 * await serve(compress({ encodings: ["gzip"], threshold: 2048, gzipLevel: 5 })(app));
 * ```
 */
export function compress(options: CompressOptions = {}): (next: Handler) => Handler {
  const settings = resolve(options);
  return (next) => (req, res) => {
    const coding = negotiateCoding(req.headers.getAll("accept-encoding"), settings.encodings);
    res.transformBody((head) => decide(head, coding, settings));
    return next(req, res);
  };
}

/** Whether and how to compress the response whose head this is. */
function decide(head: TransformHead, coding: CompressCoding | undefined, s: Settings): BodyTransform | undefined {
  addVary(head);
  if (head.headRequest || head.status === 204 || head.status === 206) return undefined;
  if (head.getHeader("content-range") !== undefined || head.getHeader("content-encoding") !== undefined) return undefined;
  if (hasNoTransform(head.getHeaders("cache-control"))) return undefined;
  if (coding === undefined) return undefined;
  const type = head.getHeader("content-type");
  if (head.status === 304) {
    // What the 200 would have carried: a 304 updates the cached response's fields. Its
    // type is often absent (serveStatic answers before setting it): a weak tag where the
    // 200 was sent whole costs only a full response to an If-Range, never a wrong splice.
    if (type === undefined || s.compressible(type)) weakenETag(head);
    return undefined;
  }
  if (!s.compressible(type)) return undefined;
  if (head.length !== undefined && head.length < s.threshold) return undefined;
  head.setHeader("Content-Encoding", coding);
  head.removeHeader("content-length");
  weakenETag(head);
  return zlibTransform(coding, s, head.length);
}

/** Appends `Vary: Accept-Encoding` unless a Vary already covers it (by name or `*`). */
function addVary(head: TransformHead): void {
  const covered = head
    .getHeaders("vary")
    .flatMap((v) => v.split(","))
    .some((member) => {
      const name = member.trim().toLowerCase();
      return name === "*" || name === "accept-encoding";
    });
  if (!covered) head.appendHeader("Vary", "Accept-Encoding");
}

function hasNoTransform(cacheControl: readonly string[]): boolean {
  return cacheControl.some((line) => line.split(",").some((directive) => directive.trim().toLowerCase() === "no-transform"));
}

function weakenETag(head: TransformHead): void {
  const etag = head.getHeader("etag");
  if (etag !== undefined && etag.startsWith('"')) head.setHeader("ETag", `W/${etag}`);
}

function resolve(o: CompressOptions): Settings {
  const encodings = [...(o.encodings ?? AVAILABLE_CODINGS)];
  if (encodings.length === 0) throw new RangeError("compress: encodings must name at least one coding");
  for (const coding of encodings) {
    if (!AVAILABLE_CODINGS.includes(coding)) {
      throw new TypeError(`compress: coding ${JSON.stringify(coding)} is not available here (this Node's zlib offers ${AVAILABLE_CODINGS.join(", ")})`);
    }
  }
  const custom = o.compressible;
  return {
    encodings,
    threshold: whole("threshold", o.threshold ?? 1024, 0, Number.MAX_SAFE_INTEGER),
    brotliQuality: whole("brotliQuality", o.brotliQuality ?? 4, 0, 11),
    gzipLevel: whole("gzipLevel", o.gzipLevel ?? 6, 1, 9),
    zstdLevel: whole("zstdLevel", o.zstdLevel ?? 3, 1, 19),
    syncLimit: whole("syncLimit", o.syncLimit ?? 64 * 1024, 0, Number.MAX_SAFE_INTEGER),
    compressible: custom ? (type) => type !== undefined && custom(type) : isCompressibleType,
  };
}

function whole(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`compress: ${name} must be a whole number ${min}–${max}, got ${value}`);
  return value;
}
