/**
 * Body transforms: the one way middleware rewrites a response's body on its way out
 * (compression, an ETag computed from the bytes, a checksum trailer…), registered with
 * `res.transformBody()`.
 * @module
 */
import type { Field } from "../core/index.js";
import { checkField } from "./response-writer.js";

/**
 * How a response's body goes out: `whole` (bytes or text known up front, `send()`),
 * `stream` (`stream()`, or `setBody()` with an iterable or ReadableStream) or `events`
 * (`sse()`: every event is flushed to the client as it is sent).
 */
export type BodyKind = "whole" | "stream" | "events";

/**
 * The response head as a body transform sees it, when the head is about to be framed.
 * Its fields can still be edited: by the {@link BodyTransformer} call, and, for a whole
 * body, until {@link BodyTransform.whole} returns (the head is framed after it).
 */
export interface TransformHead {
  /** The status code (a transform of a whole body may change it, e.g. to 304 once an ETag matches). */
  readonly status: number;
  /** Sets the status code: 200–999 (a final status). */
  setStatus(code: number): void;
  /** How the body goes out. */
  readonly kind: BodyKind;
  /**
   * The request was HEAD: the head is sent without the body (transforms still run, so a
   * head can announce what the GET would). Transforms that only change the body may skip it.
   */
  readonly headRequest: boolean;
  /**
   * Bytes of the body this transform receives: a whole body's length (after the
   * transforms registered before this one), or the Content-Length a streamed body
   * declared; `undefined` when unknown (a stream without Content-Length, events).
   */
  readonly length: number | undefined;
  /** The first value of `name` (case-insensitive), if any. */
  getHeader(name: string): string | undefined;
  /** Every value of `name`, one per field line, in order. */
  getHeaders(name: string): string[];
  /** Sets a field, replacing any with the same name; throws a TypeError for a name or value that can't go on the wire. */
  setHeader(name: string, value: string | number): void;
  /** Adds a field line, keeping those with the same name (e.g. Vary). */
  appendHeader(name: string, value: string | number): void;
  /** Removes every field with this name (a transform that changes the length removes Content-Length). */
  removeHeader(name: string): void;
}

/** What a transform method may return: the output chunks, now or later. */
export type TransformOutput = readonly Uint8Array[] | Promise<readonly Uint8Array[]>;

/**
 * How one response's body is transformed. Which methods are called depends on
 * {@link TransformHead.kind}:
 *
 * - `whole`: `whole(body, head)` when present; otherwise the body goes through `write()`
 *   once and `end()`, and their outputs are joined.
 * - `stream` and `events`: `write()` per chunk, `flush()` after each server-sent event and
 *   on `BodyStream.flush()`, `end()` once. Calls come one at a time, each after the
 *   previous settled, and the next chunk is only taken once this one's output went to the
 *   transport: the handler's backpressure is the client's.
 *
 * `abort(error)` is called, at most once, when the response fails or is cut off before
 * `end()` resolved (the client left, the handler threw mid-stream): release what the
 * transform holds (a zlib stream). It must not throw (an error it throws becomes a
 * process warning). A method that rejects or throws fails the response: nothing was
 * written yet for a whole body (the handler's `send()` rejects; the library's 500
 * follows if the handler rethrows), and for a stream the write rejects and the response
 * ends with outcome `error`.
 */
export interface BodyTransform {
  /** Maps a whole body; may return a promise to keep long work off the event loop. */
  whole?(body: Uint8Array, head: TransformHead): Uint8Array | Promise<Uint8Array>;
  /** Takes one chunk; returns what to write on now (possibly nothing, held back for later). */
  write?(chunk: Uint8Array): TransformOutput;
  /** Returns everything held back, so the client can see all the data written so far. */
  flush?(): TransformOutput;
  /** The body ended: returns the rest. */
  end?(): TransformOutput;
  /** The response failed before the body ended: release resources. */
  abort?(error: Error): void;
}

/**
 * Registered with `res.transformBody()`: called once per response, when its head is
 * about to be framed (whole bodies: at `send()`; streams and events: at `stream()`/`sse()`).
 * Returns `undefined` to leave the body alone, or a {@link BodyTransform}.
 */
export type BodyTransformer = (head: TransformHead) => BodyTransform | undefined;

/**
 * The editable head given to transformers. It owns `fields` (the writer's array, taken
 * over) until the writer reads them back.
 * @internal
 */
export class EditableHead implements TransformHead {
  fields: Field[];
  #status: number;
  readonly kind: BodyKind;
  readonly headRequest: boolean;
  length: number | undefined;

  constructor(fields: Field[], status: number, kind: BodyKind, headRequest: boolean, length: number | undefined) {
    this.fields = fields;
    this.#status = status;
    this.kind = kind;
    this.headRequest = headRequest;
    this.length = length;
  }

  get status(): number {
    return this.#status;
  }

  setStatus(code: number): void {
    if (!Number.isInteger(code) || code < 200 || code > 999) throw new RangeError(`a body transform can set a final status (200–999), not ${code}`);
    this.#status = code;
  }

  getHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.fields.find((f) => f.name.toLowerCase() === lower)?.value;
  }

  getHeaders(name: string): string[] {
    const lower = name.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value);
  }

  setHeader(name: string, value: string | number): void {
    const v = String(value);
    checkField(name, v);
    this.removeHeader(name);
    this.fields.push({ name, value: v });
  }

  appendHeader(name: string, value: string | number): void {
    const v = String(value);
    checkField(name, v);
    this.fields.push({ name, value: v });
  }

  removeHeader(name: string): void {
    const lower = name.toLowerCase();
    this.fields = this.fields.filter((f) => f.name.toLowerCase() !== lower);
  }
}

/**
 * Runs a whole body through `transformers` in registration order. Each is called with the
 * length of the body it will receive (after those before it), so a size threshold sees
 * the right figure. Resolves with the body to send; `head` holds the edited fields.
 * @internal
 */
export async function transformWhole(transformers: readonly BodyTransformer[], head: EditableHead, body: Uint8Array): Promise<Uint8Array> {
  let bytes = body;
  for (const transformer of transformers) {
    head.length = bytes.length;
    const t = transformer(head);
    if (t === undefined) continue;
    try {
      if (t.whole) bytes = await t.whole(bytes, head);
      else if (t.write && t.end) bytes = Buffer.concat([...(await t.write(bytes)), ...(await t.end())]);
      else throw new TypeError("a body transform for a whole body needs whole(), or write() and end()");
    } catch (error) {
      abortQuietly(t, error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }
  return bytes;
}

/**
 * The transforms of one streamed body, in registration order, in front of `sink` (the
 * writer's framing of chunks). Calls are serialized: a chunk enters only after the one
 * before went through every stage and into the sink.
 * @internal
 */
export class TransformPipeline {
  readonly #stages: BodyTransform[];
  readonly #sink: (chunk: Uint8Array) => Promise<void>;
  /** Server-sent events: every write is an event, flushed through at once. */
  readonly #flushEach: boolean;
  #tail: Promise<void> = Promise.resolve();
  #failed: Error | undefined;
  #over = false;

  /**
   * Calls each transformer with `head` (they see each other's edits) and keeps the
   * transforms; `undefined` when none took the body. Throws what a transformer throws.
   */
  static open(transformers: readonly BodyTransformer[], head: EditableHead, sink: (chunk: Uint8Array) => Promise<void>): TransformPipeline | undefined {
    const stages: BodyTransform[] = [];
    try {
      for (const transformer of transformers) {
        const t = transformer(head);
        if (t === undefined) continue;
        stages.push(t);
        if (!t.write || !t.end) throw new TypeError(`a body transform for a ${head.kind === "events" ? "server-sent-events" : "streamed"} body needs write() and end()`);
      }
    } catch (error) {
      for (const t of stages) abortQuietly(t, error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    return stages.length === 0 ? undefined : new TransformPipeline(stages, sink, head.kind === "events");
  }

  private constructor(stages: BodyTransform[], sink: (chunk: Uint8Array) => Promise<void>, flushEach: boolean) {
    this.#stages = stages;
    this.#sink = sink;
    this.#flushEach = flushEach;
  }

  /** Passes a chunk through (and, for events, flushes it through). */
  write(chunk: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      await this.#through(0, [chunk]);
      if (this.#flushEach) await this.#flushFrom(0);
    });
  }

  /** Makes every stage hand over what it holds. */
  flush(): Promise<void> {
    return this.#serial(() => this.#flushFrom(0));
  }

  /** Ends every stage, in order, writing what each returns through the rest. */
  end(): Promise<void> {
    return this.#serial(async () => {
      await this.#endFrom(0);
      this.#over = true;
    });
  }

  /** The response failed: each stage releases what it holds (once; not after `end()`). */
  abort(error: Error): void {
    if (this.#over) return;
    this.#over = true;
    this.#failed ??= error;
    for (const t of this.#stages) abortQuietly(t, error);
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(() => {
      if (this.#failed) throw this.#failed;
      return step();
    });
    this.#tail = run.then(
      () => undefined,
      (error: unknown) => {
        this.#failed ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    return run;
  }

  async #through(stage: number, chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      const t = this.#stages[stage];
      if (t === undefined) await this.#sink(chunk);
      else await this.#through(stage + 1, await t.write!(chunk));
    }
  }

  async #flushFrom(stage: number): Promise<void> {
    for (let i = stage; i < this.#stages.length; i++) {
      const flush = this.#stages[i]!.flush;
      if (flush) await this.#through(i + 1, await flush.call(this.#stages[i]));
    }
  }

  async #endFrom(stage: number): Promise<void> {
    for (let i = stage; i < this.#stages.length; i++) {
      const t = this.#stages[i]!;
      await this.#through(i + 1, await t.end!());
    }
  }
}

/** An abort that throws must not break the connection's bookkeeping: it becomes a process warning. */
function abortQuietly(t: BodyTransform, error: Error): void {
  try {
    t.abort?.(error);
  } catch (failure) {
    process.emitWarning(failure instanceof Error ? failure : new Error(String(failure)), "TophatBodyTransformWarning");
  }
}
