// Every rejection points at the offending byte (wit/tophat.wit, `rejection`): for the rules
// about the whole head, the start of the field line (or coding) that broke the rule, not
// the start of the head. Through the thin binding and, for the same inputs, jco's
// bindings of the component (test/jco-equivalence.test.ts compares them in bulk).
import { describe, expect, it } from "vitest";
import { Core, DEFAULT_LIMITS, initialChunkedState } from "../host/core.js";

const core = Core.load();

/** Parses `head`; the rejection, with `at` as the text from its offset on. */
function refused(head: string): { reason: string; status: number; at: string } {
  const bytes = Buffer.from(head, "latin1");
  const out = core.parseHead(bytes, DEFAULT_LIMITS);
  if (out.tag !== "invalid") throw new Error(`not refused: ${out.tag}`);
  return { reason: out.val.reason, status: out.val.status, at: head.slice(out.val.offset, out.val.offset + 24) };
}

describe("rejection offsets for the whole-head rules", () => {
  it.each([
    ["multiple-host: the second Host line", "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nHost: b\r\n\r\n", "multiple-host", 400, "Host: b\r\n\r\n"],
    [
      "content-length-with-transfer-encoding: the later of the two (Transfer-Encoding)",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "content-length-with-transfer-encoding",
      400,
      "Transfer-Encoding: chunk",
    ],
    [
      "content-length-with-transfer-encoding: the later of the two (Content-Length)",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX: y\r\nContent-Length: 5\r\n\r\n",
      "content-length-with-transfer-encoding",
      400,
      "Content-Length: 5\r\n\r\n",
    ],
    ["transfer-encoding-in-http10: the Transfer-Encoding line", "POST / HTTP/1.0\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n", "transfer-encoding-in-http10", 400, "Transfer-Encoding: chunk"],
    [
      "unsupported-transfer-coding: the first coding other than chunked",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x-custom\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "unsupported-transfer-coding",
      501,
      "x-custom\r\nTransfer-Encod",
    ],
    ["missing-host: the end of the head", "GET / HTTP/1.1\r\nX: y\r\n\r\n", "missing-host", 400, ""],
    ["unsupported-version: the version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "unsupported-version", 505, "HTTP/2.0\r\nHost: a\r\n\r\n"],
  ])("%s", (_name, head, reason, status, at) => {
    expect(refused(head)).toEqual({ reason, status, at });
  });
});

describe("chunk extensions: whitespace counts toward max-chunk-extension-length (found in review)", () => {
  it.each([
    ["after an extension name", "1;a"],
    ["after `=`", "1;a="],
    ["before `;`", "1"],
  ])("a run of spaces %s is refused at the first byte past the limit, not waited on", (_where, prefix) => {
    const bytes = Buffer.from(prefix + " ".repeat(5000), "latin1");
    const out = core.decodeChunked(bytes, initialChunkedState(), DEFAULT_LIMITS);
    expect(out).toEqual({ tag: "invalid", val: { reason: "chunk-extension-too-long", status: 400, offset: 1 + DEFAULT_LIMITS.maxChunkExtensionLength } });
  });

  it("limits larger than the decoder's window still make progress (the window grows to hold any line they allow)", () => {
    const limits = { ...DEFAULT_LIMITS, maxChunkExtensionLength: 8 * 1024 * 1024 };
    const extension = ";" + "e".repeat(3 * 1024 * 1024);
    const bytes = Buffer.from(`1${extension}\r\nx\r\n0\r\n\r\n`, "latin1");
    const out = core.decodeChunked(bytes, initialChunkedState(), limits);
    expect(out.tag).toBe("progress");
    if (out.tag === "progress") {
      expect(out.val.consumed).toBe(bytes.length);
      expect(out.val.state.phase).toBe("done");
    }
  });
});
