// The core answers inputs of any size that fits its memory (wit/tophat.wit, "Input sizes"):
// 64 MiB to every function that takes bytes or strings, through the component (jco's
// bindings, which lower the whole input as any component host does) and through the thin
// binding. parse-head looks at max-head-bytes only; decode at a window and reports how far
// it got; the framer frames what it is given. No trap, no exception.
import { describe, expect, it } from "vitest";
import { Core, DEFAULT_LIMITS, initialChunkedState } from "../host/core.js";
import { loadJco, normalizeJcoChunked, normalizeJcoFrame, normalizeJcoParse, normalizeJcoTrailer } from "./support/normalize.js";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const jcoState = { phase: "size-line", remaining: 0n, trailerBytes: 0, trailerCount: 0 } as const;

/** A request head with one endless field: the head never ends within max-head-bytes. */
function hugeHead(): Uint8Array {
  const bytes = new Uint8Array(SIZE).fill(0x61);
  bytes.set(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\nX: "), 0);
  return bytes;
}

/** A chunked body's first 64 MiB: a size line, then one chunk's data to the end. */
const LINE = `${(SIZE - 9).toString(16)}\r\n`;
function hugeChunked(): Uint8Array {
  expect(LINE.length).toBe(9);
  const bytes = new Uint8Array(SIZE).fill(0x62);
  bytes.set(Buffer.from(LINE), 0);
  return bytes;
}

describe("64 MiB inputs", () => {
  it("parse-head: 431 head-too-large at max-head-bytes, through the component and the thin binding", async () => {
    const jco = await loadJco();
    const bytes = hugeHead();
    const expected = { tag: "invalid", val: { reason: "head-too-large", status: 431, offset: DEFAULT_LIMITS.maxHeadBytes } };
    expect(normalizeJcoParse(jco.parseHead(bytes, DEFAULT_LIMITS))).toEqual(expected);
    const out = Core.load().parseHead(bytes, DEFAULT_LIMITS);
    expect(out).toEqual({ tag: "invalid", val: { reason: "head-too-large", status: 431, offset: DEFAULT_LIMITS.maxHeadBytes } });
  });

  it("chunked.decode: progress over its window, and the rest decodes when passed again", async () => {
    const jco = await loadJco();
    const bytes = hugeChunked();
    const first = normalizeJcoChunked(jco.decode(bytes, jcoState, DEFAULT_LIMITS));
    if (first.tag !== "progress") throw new Error(`expected progress, got ${JSON.stringify(first)}`);
    expect(first.val.consumed).toBe(MiB);
    expect(first.val.state.phase).toBe("data");
    // The thin binding, fed the way a host feeds it: the rest again, until nothing is left.
    const core = Core.load();
    let at = 0;
    let state = initialChunkedState();
    let data = 0;
    let calls = 0;
    while (at < bytes.length) {
      const out = core.decodeChunked(bytes.subarray(at), state, DEFAULT_LIMITS);
      if (out.tag !== "progress") throw new Error(`call ${calls}: ${JSON.stringify(out)}`);
      for (const span of out.val.data) data += span.len;
      at += out.val.consumed;
      state = out.val.state;
      calls++;
      if (out.val.consumed === 0) break;
    }
    // All the chunk's data, then waiting for its CRLF.
    expect(state.phase).toBe("data-end");
    expect(data).toBe(SIZE - LINE.length);
    expect(at).toBe(SIZE);
    expect(calls).toBe(64);
  });

  it("frame-head and last-chunk: a 64 MiB field is framed (or refused) as any other, through the component", async () => {
    const jco = await loadJco();
    const value = "v".repeat(SIZE - 1) + "\n";
    const ctx = { head: false, http10: false, close: false };
    // A CR/LF anywhere in a value is refused, however long the value.
    expect(normalizeJcoFrame(jco.frameHead({ status: 200, headers: [{ name: "X-Big", value }], bodyLength: 0n }, ctx, undefined))).toEqual({
      tag: "invalid",
      val: { reason: "bad-header-value", headerIndex: 0 },
    });
    expect(normalizeJcoTrailer(jco.lastChunk([{ name: "X-Big", value }]))).toEqual({ tag: "invalid", val: { reason: "bad-header-value", headerIndex: 0 } });
    // A valid one is framed: the head holds it whole.
    const framed = jco.frameHead({ status: 200, headers: [{ name: "X-Big", value: value.slice(0, -1) }], bodyLength: 0n }, ctx, undefined) as { tag: string; val: { bytes: Uint8Array } };
    expect(framed.tag).toBe("head");
    expect(framed.val.bytes.length).toBeGreaterThan(SIZE);
  }, 60_000);
});
