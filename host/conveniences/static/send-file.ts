/**
 * Sending one open file as a response: Content-Type, validators, preconditions, Range,
 * precompressed siblings, and the body streamed with backpressure. The file handle is
 * closed on every path, whatever happens.
 * @module
 */
import type { BigIntStats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import mimeTypes from "mime-types";
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { ResponseWritten } from "../../http/response-written.js";
import { formatHttpDate } from "./http-date.js";
import { acceptableCodings, SIBLING_SUFFIX, type PrecompressedCoding } from "./negotiate.js";
import { openTrusted, type Opened } from "./open-file.js";
import { decideRange, type ByteRange } from "./ranges.js";
import { evaluatePreconditions, ifRangeHolds, validatorsOf } from "./validators.js";

/** Options of {@link sendFile} (and of {@link serveStatic}, which has more). */
export interface SendFileOptions {
  /**
   * `Cache-Control: public, max-age=<maxAge>` in whole seconds. Default 0: caches may store
   * the file but revalidate it (with the ETag and Last-Modified) before each use.
   */
  maxAge?: number;
  /** Adds `immutable` to Cache-Control: for fingerprinted names (`app.3f9a1c.js`) with a long `maxAge`. Default false. */
  immutable?: boolean;
  /** `false`: send no Cache-Control (set your own). A Cache-Control already on the response is always kept. Default true. */
  cacheControl?: boolean;
  /** Send a strong `ETag` (from the size, the modification time and the coding) and answer `If-None-Match`/`If-Match`/`If-Range` with it. Default true. */
  etag?: boolean;
  /** Send `Last-Modified` and answer `If-Modified-Since`/`If-Unmodified-Since`/`If-Range` dates with it. Default true. */
  lastModified?: boolean;
  /**
   * Serve `<file>.br` / `<file>.gz` in place of `<file>` when the client's Accept-Encoding
   * accepts that coding (with `Content-Encoding`, the original's Content-Type, and
   * `Vary: Accept-Encoding`). `true` means `["br", "gzip"]`, in that order of preference
   * when the client rates them equally. The sibling is only used if `<file>` exists.
   * Default false (no look-ups).
   */
  precompressed?: boolean | readonly PrecompressedCoding[];
  /** The Content-Type to send, instead of the one the file name gives. A Content-Type already on the response is kept. */
  contentType?: string;
}

/** Options with their defaults applied. */
export interface ResolvedSendOptions {
  cacheControl: string | undefined;
  etag: boolean;
  lastModified: boolean;
  codings: readonly PrecompressedCoding[];
  contentType: string | undefined;
}

/** Reads are this large: each waits until the socket took the one before. */
const READ_SIZE = 64 * 1024;

/** Applies defaults and checks option values (a bad one throws when the options are made, not per request). */
export function resolveSendOptions(options: SendFileOptions, who: string): ResolvedSendOptions {
  const maxAge = options.maxAge ?? 0;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new RangeError(`${who}: maxAge must be whole seconds ≥ 0, got ${maxAge}`);
  const codings = options.precompressed === true ? (["br", "gzip"] as const) : options.precompressed === false || options.precompressed === undefined ? [] : options.precompressed;
  for (const coding of codings) {
    if (!Object.hasOwn(SIBLING_SUFFIX, coding)) throw new TypeError(`${who}: precompressed coding ${JSON.stringify(coding)} is not one of ${Object.keys(SIBLING_SUFFIX).join(", ")}`);
  }
  return {
    cacheControl: options.cacheControl === false ? undefined : `public, max-age=${maxAge}${options.immutable ? ", immutable" : ""}`,
    etag: options.etag ?? true,
    lastModified: options.lastModified ?? true,
    codings: [...codings],
    contentType: options.contentType,
  };
}

/**
 * Sends the file at `filePath` (absolute, or relative to the working directory) as the
 * response to `req`, with everything {@link serveStatic} does for one file: Content-Type
 * from the name, ETag and Last-Modified, 304/412 for conditional requests, single byte
 * ranges (206/416), HEAD, and precompressed siblings when enabled. The path is trusted:
 * symlinks are followed and nothing confines it — never build it from request input (use
 * {@link serveStatic}, which does). A path that isn't a regular file is a 404 Glitch; one
 * the process may not read, a 403.
 *
 * A function rather than a `ResponseWriter` method: it needs the request (its conditional
 * and Range fields) and the file system, and the writer is the HTTP layer, which has
 * neither; this sits with the other conveniences on top of the writer's public API.
 *
 * ```ts
 * router.get("/report", async (req, res) => {
 *   res.setHeader("Content-Disposition", 'attachment; filename="report.pdf"');
 *   return sendFile(req, res, "/var/reports/latest.pdf", { maxAge: 60 });
 * });
 * ```
 */
export async function sendFile(req: Request, res: ResponseWriter, filePath: string, options: SendFileOptions = {}): Promise<ResponseWritten> {
  const resolved = resolveSendOptions(options, "sendFile");
  const opened = await openTrusted(filePath);
  if (opened.kind === "forbidden") throw Glitch.forbidden();
  if (opened.kind !== "file") throw Glitch.notFound();
  const chosen = await withSibling(req, opened, resolved.codings, (sibling) => openTrusted(sibling));
  return sendOpenFile(req, res, chosen, opened.realPath, resolved);
}

/** A file to send: its open handle (owned), its stat, and the coding of its bytes. */
export interface FileToSend {
  handle: FileHandle;
  stats: BigIntStats;
  coding: PrecompressedCoding | undefined;
}

/**
 * `file`, or its precompressed sibling when enabled, acceptable and present: the first of
 * `codings` the client accepts (best first) whose sibling `open` finds as a regular file.
 * Exactly one handle comes back open; the others are closed, whatever happens.
 */
export async function withSibling(
  req: Request,
  file: Opened & { kind: "file" },
  codings: readonly PrecompressedCoding[],
  open: (siblingPath: string) => Promise<Opened>,
): Promise<FileToSend> {
  if (codings.length > 0) {
    try {
      for (const coding of acceptableCodings(req.headers.getAll("accept-encoding"), codings)) {
        const sibling = await open(file.realPath + SIBLING_SUFFIX[coding]);
        if (sibling.kind !== "file") continue;
        await file.handle.close();
        return { handle: sibling.handle, stats: sibling.stats, coding };
      }
    } catch (error) {
      await file.handle.close();
      throw error;
    }
  }
  return { handle: file.handle, stats: file.stats, coding: undefined };
}

/**
 * Answers `req` with `file` (whose handle this closes, on every path). `namePath` is the
 * name the Content-Type comes from (the original's, for a sibling).
 */
export async function sendOpenFile(req: Request, res: ResponseWriter, file: FileToSend, namePath: string, o: ResolvedSendOptions): Promise<ResponseWritten> {
  try {
    return await respond(req, res, file, namePath, o);
  } finally {
    await file.handle.close();
  }
}

async function respond(req: Request, res: ResponseWriter, file: FileToSend, namePath: string, o: ResolvedSendOptions): Promise<ResponseWritten> {
  const size = Number(file.stats.size);
  const validators = validatorsOf(file.stats, file.coding, o);
  // Fields every answer below shares (304 included: §15.4.5 wants the validators,
  // Cache-Control and Vary a 200 would have had).
  if (validators.etag !== undefined) res.setHeader("ETag", validators.etag);
  if (validators.lastModified !== undefined) res.setHeader("Last-Modified", formatHttpDate(validators.lastModified * 1000));
  if (o.cacheControl !== undefined && res.getHeader("cache-control") === undefined) res.setHeader("Cache-Control", o.cacheControl);
  // The answer depends on Accept-Encoding whenever siblings are looked for, sibling or not.
  if (o.codings.length > 0) res.appendHeader("Vary", "Accept-Encoding");

  switch (evaluatePreconditions(req, validators)) {
    case "failed":
      throw new Glitch(412, "a precondition of the request failed (If-Match or If-Unmodified-Since)");
    case "not-modified":
      return res.sendCode(304);
    case "proceed":
      break;
  }

  if (res.getHeader("content-type") === undefined) res.setHeader("Content-Type", o.contentType ?? contentTypeOf(namePath));
  if (file.coding !== undefined) res.setHeader("Content-Encoding", file.coding);
  res.setHeader("Accept-Ranges", "bytes");

  let range: ByteRange = { start: 0, end: size - 1 };
  // §14.2: GET is the only method Range is defined for; HEAD gets the whole file's head.
  if (req.method === "GET" && req.headers.has("range") && ifRangeHolds(req, validators)) {
    const decision = decideRange(req.headers.getAll("range"), size);
    if (decision.kind === "unsatisfiable") {
      throw new Glitch(416, `no byte range of the request is within the file's ${size} bytes`, { headers: { "Content-Range": `bytes */${size}` } });
    }
    if (decision.kind === "range") {
      range = decision.range;
      res.setStatus(206).setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    }
  }
  const length = range.end - range.start + 1;
  res.setHeader("Content-Length", length);
  const out = res.stream();
  if (req.method === "HEAD") return out.end();

  let position = range.start;
  let left = length;
  while (left > 0) {
    // A fresh buffer each time: a written chunk may still be queued for the socket.
    const chunk = Buffer.allocUnsafe(Math.min(READ_SIZE, left));
    const { bytesRead } = await file.handle.read(chunk, 0, chunk.length, position);
    // The file shrank since its stat: end() reports the body short of its Content-Length
    // (outcome "error", the connection closes, so the client can tell).
    if (bytesRead === 0) break;
    position += bytesRead;
    left -= bytesRead;
    try {
      await out.write(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    } catch {
      // The client went away (or the write failed): end() reports that failure as the
      // response's outcome — `client-closed` or `error` — instead of reading on.
      break;
    }
  }
  return out.end();
}

/** The Content-Type for a file name: mime-db's type, `charset=utf-8` for text; `application/octet-stream` when unknown. */
export function contentTypeOf(name: string): string {
  const type = mimeTypes.lookup(name);
  return (type === false ? false : mimeTypes.contentType(type)) || "application/octet-stream";
}
