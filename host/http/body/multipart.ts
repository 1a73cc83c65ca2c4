/**
 * `multipart/form-data` (RFC 7578) bodies as an async iterator of parts, parsed by busboy:
 * fields whole, files as streams read from the client only as fast as they are consumed.
 * @module
 */
import { Readable } from "node:stream";
import busboy, { type Busboy, type FileInfo, type FieldInfo } from "busboy";
import { Glitch } from "../glitch.js";
import type { Headers } from "../headers.js";
import type { BodySource } from "../request.js";
import { CappedReader } from "./capped.js";
import { requireMediaType } from "./media-type.js";

/**
 * The limits of `req.multipart()`. Going over any of them fails the form with 413 and a
 * problem+json `limit` member naming the option. Every field of the form is held in
 * memory (at most `maxFields` × `maxFieldBytes`); files never are.
 */
export interface MultipartOptions {
  /** Most bytes in one file. Default 10 MiB. */
  maxFileBytes?: number;
  /** Most file parts. Default 10. */
  maxFiles?: number;
  /** Most non-file fields. Default 100. */
  maxFields?: number;
  /** Most bytes in one field's value. Default 64 KiB. */
  maxFieldBytes?: number;
  /** Most parts of any kind (parts without a form-data disposition included). Default `maxFiles + maxFields`. */
  maxParts?: number;
  /** Most bytes in the whole body, as sent (boundaries and part headers included). Default: no cap but the others. */
  maxBytes?: number;
}

/** A non-file field of a form. */
export interface MultipartField {
  /** Tells a field from a file. */
  readonly kind: "field";
  /** The field's name (its Content-Disposition `name`). */
  readonly name: string;
  /** The value, decoded as its part's charset says (UTF-8 by default). */
  readonly value: string;
  /** The part's media type (`text/plain` unless it said otherwise). */
  readonly mimeType: string;
}

/**
 * A file of a form: its content is a stream that must be read to its end or skipped
 * (`stream.resume()`, or `stream.destroy()`) before the next part can come, since the
 * parts arrive one after the other on the same connection. The iterator skips a file
 * whose stream nobody started reading.
 */
export interface MultipartFile {
  /** Tells a file from a field. */
  readonly kind: "file";
  /** The form field's name. */
  readonly name: string;
  /**
   * The file name the client gave, without any directory (busboy keeps the last path
   * segment); undefined when none was given. Never trust it as a path: it is client input.
   */
  readonly filename: string | undefined;
  /** The media type the client declared (`application/octet-stream` when none was given): a claim, not a check. */
  readonly mimeType: string;
  /**
   * The content. Read it (pipe it to a file, `for await`, `Readable.toWeb(stream)`) or skip
   * it. It fails with the 413 Glitch when the file is over `maxFileBytes`, and with the
   * form's error when the body breaks off.
   */
  readonly stream: Readable;
}

/** One part of a `multipart/form-data` body. */
export type MultipartPart = MultipartField | MultipartFile;

const KiB = 1024;
const MiB = 1024 * KiB;
/** RFC 2046 §5.1.1: a boundary is 1–70 of these characters, not ending with a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

interface Limits {
  maxFileBytes: number;
  maxFiles: number;
  maxFields: number;
  maxFieldBytes: number;
  maxParts: number;
  maxBytes: number;
}

function count(name: string, value: number | undefined, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Infinity) return value;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`multipart option ${name} must be a whole number ≥ 0, got ${value}`);
  return value;
}

function resolveLimits(o: MultipartOptions): Limits {
  const maxFiles = count("maxFiles", o.maxFiles, 10);
  const maxFields = count("maxFields", o.maxFields, 100);
  return {
    maxFileBytes: count("maxFileBytes", o.maxFileBytes, 10 * MiB),
    maxFiles,
    maxFields,
    maxFieldBytes: count("maxFieldBytes", o.maxFieldBytes, 64 * KiB),
    maxParts: count("maxParts", o.maxParts, maxFiles + maxFields),
    maxBytes: count("maxBytes", o.maxBytes, Infinity, true),
  };
}

function overLimit(limit: keyof Limits, max: number, what: string): Glitch {
  return Glitch.payloadTooLarge(`the form has ${what} (${limit}: ${max})`, { extensions: { limit, max } });
}

/** What busboy (or the form) found wrong with the body: 400, its message public. */
function malformed(error: unknown): Glitch {
  const reason = error instanceof Error ? error.message : String(error);
  return Glitch.badRequest(`the multipart/form-data body is malformed: ${reason}`, { cause: error });
}

/**
 * Starts reading a `multipart/form-data` body (taking it from `take`). Checks the options
 * (RangeError), the media type (415), the boundary (400) and the Content-Length against
 * `maxBytes` (413) at once; the parts come from the returned iterator.
 */
export function readMultipart(headers: Headers, take: () => BodySource, options: MultipartOptions = {}): AsyncIterableIterator<MultipartPart> {
  const limits = resolveLimits(options);
  const type = requireMediaType(headers, "multipart/form-data");
  const boundary = type.params.get("boundary");
  if (boundary === null) throw Glitch.badRequest("the multipart/form-data Content-Type has no boundary parameter");
  if (!BOUNDARY.test(boundary)) throw Glitch.badRequest("the multipart/form-data boundary is invalid: 1 to 70 characters of RFC 2046 §5.1.1, not ending with a space");
  // Taken only now: a request refused above can still be read otherwise by the handler.
  const reader = new CappedReader(take(), limits.maxBytes, "maxBytes");
  return new MultipartReader(type.toString(), reader, limits);
}

/** A file part's stream as handed out, fed from busboy's stream for the part. */
class FileContent extends Readable {
  readonly #from: Readable;

  constructor(from: Readable) {
    super({ highWaterMark: 64 * KiB });
    this.#from = from;
    from.on("data", (chunk: Buffer) => {
      // Once the consumer destroyed this stream, the rest of the file is dropped (skipped).
      if (!this.destroyed && !this.push(chunk)) from.pause();
    });
    from.once("end", () => {
      if (!this.destroyed) this.push(null);
    });
    // busboy fails a file cut short ("Unexpected end of file") before it fails the form:
    // the handler reading it gets the 400 the form would have.
    from.once("error", (error) => this.destroy(malformed(error)));
  }

  override _read(): void {
    this.#from.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Keep busboy's stream flowing into the void, so the form goes on past this file.
    this.#from.resume();
    callback(error);
  }
}

class MultipartReader implements AsyncIterableIterator<MultipartPart> {
  readonly #reader: CappedReader;
  readonly #limits: Limits;
  readonly #parser: Busboy;
  /** Parts parsed and not handed out yet. */
  readonly #queue: MultipartPart[] = [];
  /** The next() waiting for a part. */
  #waiter: { resolve(result: IteratorResult<MultipartPart>): void; reject(error: Error): void } | undefined;
  /** The last file part, while its content may still be coming. */
  #file: FileContent | undefined;
  /** The last file handed to the handler. */
  #given: FileContent | undefined;
  #parts = 0;
  #pumping = false;
  #ended = false;
  #stopped = false;
  #failure: Error | undefined;

  constructor(contentType: string, reader: CappedReader, limits: Limits) {
    this.#reader = reader;
    this.#limits = limits;
    try {
      this.#parser = busboy({
        headers: { "content-type": contentType },
        // busboy counts a value that reaches its limit as truncated, even when nothing
        // follows it: one byte more tells "exactly the limit" from "over it".
        limits: { fileSize: limits.maxFileBytes + 1, files: limits.maxFiles, fields: limits.maxFields, fieldSize: limits.maxFieldBytes + 1, parts: limits.maxParts + 1 },
        // Browsers send file names as raw UTF-8 (RFC 7578 §4.2), not latin1.
        defParamCharset: "utf8",
      });
    } catch (error) {
      throw malformed(error);
    }
    const parser = this.#parser;
    parser.on("file", (name: string | undefined, stream: Readable, info: FileInfo) => this.#onFile(name, stream, info));
    parser.on("field", (name: string | undefined, value: string, info: FieldInfo) => this.#onField(name, value, info));
    parser.on("filesLimit", () => this.#fail(overLimit("maxFiles", limits.maxFiles, `more than ${limits.maxFiles} files`)));
    parser.on("fieldsLimit", () => this.#fail(overLimit("maxFields", limits.maxFields, `more than ${limits.maxFields} fields`)));
    parser.on("partsLimit", () => this.#fail(overLimit("maxParts", limits.maxParts, `more than ${limits.maxParts} parts`)));
    // After a failure or a stop, busboy reports the end it was cut at: already accounted for.
    parser.on("error", (error: unknown) => this.#fail(malformed(error)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<MultipartPart> {
    return this;
  }

  next(): Promise<IteratorResult<MultipartPart>> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#stopped) return Promise.resolve({ done: true, value: undefined });
    if (this.#waiter) return Promise.reject(new TypeError("multipart: next() was called before the previous call settled"));
    // A file the handler never started reading is skipped, so the form can go on.
    if (this.#given?.readableFlowing === null) this.#given.resume();
    const part = this.#queue.shift();
    if (part) {
      this.#hand(part);
      void this.#pump();
      return Promise.resolve({ done: false, value: part });
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      void this.#pump();
    });
  }

  /**
   * The handler stopped early (`break` out of `for await`): parsing stops here and the
   * rest of the body is left to the connection, which skips it when it is small
   * (`maxDrainBytes`) and otherwise closes after the response. A file still arriving fails.
   */
  async return(): Promise<IteratorResult<MultipartPart>> {
    if (!this.#stopped && !this.#failure && !this.#ended) {
      this.#stopped = true;
      this.#abandonFile(new Error("multipart: the iteration stopped before this file was complete"));
      this.#parser.destroy();
    }
    return { done: true, value: undefined };
  }

  #onFile(name: string | undefined, from: Readable, info: FileInfo): void {
    // busboy may go on with the chunk it was given after a failure: its parts are dropped.
    if (this.#failure || this.#stopped) return void from.resume();
    if (name === undefined) return this.#fail(Glitch.badRequest("a multipart/form-data part has no name (RFC 7578 §4.2)"));
    if (!this.#countPart()) return;
    const stream = new FileContent(from);
    // Its errors also reach the handler through next(); without a listener of its own, a
    // file nobody reads would throw them at the process.
    stream.on("error", () => undefined);
    from.once("limit", () => {
      const glitch = overLimit("maxFileBytes", this.#limits.maxFileBytes, `a file larger than ${this.#limits.maxFileBytes} bytes`);
      stream.destroy(glitch);
      this.#fail(glitch);
    });
    from.once("end", () => {
      if (this.#file === stream) this.#file = undefined;
    });
    this.#file = stream;
    this.#deliver({ kind: "file", name, filename: info.filename, mimeType: info.mimeType, stream });
  }

  #onField(name: string | undefined, value: string, info: FieldInfo): void {
    if (this.#failure || this.#stopped) return;
    if (name === undefined) return this.#fail(Glitch.badRequest("a multipart/form-data part has no name (RFC 7578 §4.2)"));
    if (info.valueTruncated) return this.#fail(overLimit("maxFieldBytes", this.#limits.maxFieldBytes, `a field larger than ${this.#limits.maxFieldBytes} bytes`));
    if (!this.#countPart()) return;
    this.#deliver({ kind: "field", name, value, mimeType: info.mimeType });
  }

  #countPart(): boolean {
    if (++this.#parts <= this.#limits.maxParts) return true;
    this.#fail(overLimit("maxParts", this.#limits.maxParts, `more than ${this.#limits.maxParts} parts`));
    return false;
  }

  #deliver(part: MultipartPart): void {
    if (this.#failure || this.#stopped) return;
    const waiter = this.#waiter;
    if (!waiter) return void this.#queue.push(part);
    this.#waiter = undefined;
    this.#hand(part);
    waiter.resolve({ done: false, value: part });
  }

  #hand(part: MultipartPart): void {
    if (part.kind === "file") this.#given = part.stream as FileContent;
  }

  /** Bytes are wanted while a next() waits with nothing queued, or a file is still coming. */
  #wantsData(): boolean {
    return this.#queue.length === 0 && (this.#waiter !== undefined || this.#file !== undefined);
  }

  /**
   * Moves bytes from the client to busboy while they are wanted, one chunk at a time: a
   * chunk is read only after busboy took the previous one, and busboy takes a file's bytes
   * only as fast as its stream is read, so the socket stays paused while the handler is
   * slow (backpressure).
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#failure && !this.#stopped && !this.#ended && this.#wantsData()) {
        const chunk = await this.#reader.read();
        if (this.#failure || this.#stopped) return;
        if (chunk === null) {
          await this.#end();
          return;
        }
        await new Promise<void>((resolve, reject) => this.#parser.write(chunk, (error) => (error ? reject(malformed(error)) : resolve())));
      }
    } catch (error) {
      // A Glitch (busboy's complaint made one; from the body: 413 over maxBytes, 400 bad
      // framing, 408), the client gone, the handler's time up: each as it is.
      this.#fail(error);
    } finally {
      this.#pumping = false;
    }
  }

  /** The body ended: busboy checks the form was complete (its closing delimiter came). */
  async #end(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#parser.once("finish", resolve);
      this.#parser.once("error", (error) => reject(malformed(error)));
      this.#parser.end();
    });
    if (this.#failure || this.#stopped) return;
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ done: true, value: undefined });
  }

  #fail(error: unknown): void {
    if (this.#failure || this.#stopped) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.#failure = failure;
    this.#abandonFile(failure);
    this.#parser.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(failure);
  }

  #abandonFile(error: Error): void {
    const file = this.#file;
    this.#file = undefined;
    if (file && !file.readableEnded && !file.destroyed) file.destroy(error);
  }
}
