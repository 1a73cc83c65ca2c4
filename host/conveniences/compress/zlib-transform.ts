/**
 * A {@link BodyTransform} over node:zlib: one coding (br, gzip, zstd) for a whole body or
 * a stream of chunks.
 * @module
 */
import type { Transform } from "node:stream";
import zlib from "node:zlib";
import type { BodyTransform } from "../../http/body-transform.js";
import type { CompressCoding } from "./negotiate.js";

/** A zlib compression stream: a Transform with zlib's `flush(kind, callback)`. */
type ZlibStream = Transform & { flush(kind: number, callback: () => void): void };

/** Levels and limits, resolved from the options. */
export interface CodingSettings {
  brotliQuality: number;
  gzipLevel: number;
  zstdLevel: number;
  /** Whole bodies up to this many bytes are compressed synchronously; larger ones on libuv's thread pool. */
  syncLimit: number;
}

/** zlib's zstd (Node ≥ 22.15 / 23.8): absent from Node 20's zlib and from its types. */
interface ZstdZlib {
  createZstdCompress(options: { params: Record<number, number> }): ZlibStream;
  zstdCompressSync(body: Uint8Array, options: { params: Record<number, number> }): Buffer;
  zstdCompress(body: Uint8Array, options: { params: Record<number, number> }, done: (error: Error | null, result: Buffer) => void): void;
}

const zstdZlib: ZstdZlib | undefined = typeof (zlib as Partial<ZstdZlib>).createZstdCompress === "function" ? (zlib as unknown as ZstdZlib) : undefined;
// zlib's constants for zstd, by name: they exist only where zstd does.
const zstdConstants = zlib.constants as unknown as Record<string, number | undefined>;

/** The codings this Node's zlib can produce, in the default order of preference. */
export const AVAILABLE_CODINGS: readonly CompressCoding[] = zstdZlib ? ["br", "zstd", "gzip"] : ["br", "gzip"];

/** One coding's three ways of running: sync, async (thread pool) and as a stream, plus its flush flag. */
interface Codec {
  sync(body: Uint8Array): Buffer;
  async(body: Uint8Array, done: (error: Error | null, result: Buffer) => void): void;
  stream(): ZlibStream;
  /** The flush that ends every block so far, keeping the stream open (Z_SYNC_FLUSH and kin). */
  flushFlag: number;
}

function codec(coding: CompressCoding, s: CodingSettings, sizeHint: number | undefined): Codec {
  switch (coding) {
    case "br": {
      const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: s.brotliQuality };
      // A known size lets brotli size its window and buffers to the body.
      if (sizeHint !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
      const options = { params };
      return {
        sync: (body) => zlib.brotliCompressSync(body, options),
        async: (body, done) => zlib.brotliCompress(body, options, done),
        stream: () => zlib.createBrotliCompress(options),
        flushFlag: zlib.constants.BROTLI_OPERATION_FLUSH,
      };
    }
    case "gzip": {
      const options = { level: s.gzipLevel };
      return {
        sync: (body) => zlib.gzipSync(body, options),
        async: (body, done) => zlib.gzip(body, options, done),
        stream: () => zlib.createGzip(options),
        flushFlag: zlib.constants.Z_SYNC_FLUSH,
      };
    }
    case "zstd": {
      const z = zstdZlib;
      const level = zstdConstants["ZSTD_c_compressionLevel"];
      const flush = zstdConstants["ZSTD_e_flush"];
      if (z === undefined || level === undefined || flush === undefined) throw new Error("compress: this Node's zlib has no zstd");
      const options = { params: { [level]: s.zstdLevel } };
      return {
        sync: (body) => z.zstdCompressSync(body, options),
        async: (body, done) => z.zstdCompress(body, options, done),
        stream: () => z.createZstdCompress(options),
        flushFlag: flush,
      };
    }
  }
}

/**
 * A transform that encodes with `coding`. A whole body is compressed in one call (on the
 * event loop when small, on the thread pool when large); a stream gets a zlib stream,
 * created at its first chunk, whose output is collected per call: a `write` resolves once
 * zlib took the chunk (zlib's write callback comes after the output it produced was
 * emitted), with that output, so the writer sends it before taking the next chunk.
 */
export function zlibTransform(coding: CompressCoding, settings: CodingSettings, sizeHint: number | undefined): BodyTransform {
  const c = codec(coding, settings, sizeHint);
  let stream: ZlibStream | undefined;
  let out: Buffer[] = [];
  let failure: Error | undefined;
  const take = (): Buffer[] => {
    const chunks = out;
    out = [];
    return chunks;
  };
  const open = (): ZlibStream => {
    if (stream) return stream;
    const s = c.stream();
    s.on("data", (chunk: Buffer) => out.push(chunk));
    // Recorded and reported by the next call (write callbacks get it too); a listener must
    // exist, or an error would be thrown as an uncaught exception.
    s.on("error", (error: Error) => {
      failure ??= error;
    });
    return (stream = s);
  };
  const settle = (resolve: (chunks: Buffer[]) => void, reject: (error: Error) => void) => (error?: Error | null) => {
    const e = error ?? failure;
    if (e) reject(e);
    else resolve(take());
  };
  return {
    whole(body) {
      if (body.length <= settings.syncLimit) return c.sync(body);
      return new Promise((resolve, reject) => c.async(body, (error, result) => (error ? reject(error) : resolve(result))));
    },
    write(chunk) {
      const s = open();
      return new Promise((resolve, reject) => s.write(chunk, settle(resolve, reject)));
    },
    flush() {
      const s = open();
      return new Promise((resolve, reject) => s.flush(c.flushFlag, settle(resolve, reject)));
    },
    end() {
      const s = open();
      return new Promise((resolve, reject) => {
        s.once("end", () => settle(resolve, reject)());
        s.once("error", reject);
        s.end();
      });
    },
    abort() {
      // Frees zlib's native memory now rather than at garbage collection.
      stream?.destroy();
    },
  };
}
