// Response framing (WIT `framer`): exact bytes for the status line, fields, body framing
// and connection fields; refusals for everything that could inject or mis-frame; and a
// round trip through Node's own HTTP clients to show real clients accept the bytes.
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { request as httpRequest, Agent, type IncomingHttpHeaders } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import {
  Core,
  type FrameError,
  type FramedHead,
  type FrameOutcome,
  type Field,
  type RequestContext,
  type ResponseHead,
} from "../host/core.js";
import { jcoResponseHead, loadJco, normalizeFrame, normalizeJcoFrame } from "./support/normalize.js";

const core = Core.load();
const DATE = "Sun, 06 Nov 1994 08:49:37 GMT";
const HTTP11: RequestContext = { head: false, http10: false, close: false };
const HTTP10: RequestContext = { head: false, http10: true, close: false };
const HEAD11: RequestContext = { head: true, http10: false, close: false };
const HEAD10: RequestContext = { head: true, http10: true, close: false };
const CLOSE11: RequestContext = { head: false, http10: false, close: true };

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("latin1");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function frame(response: ResponseHead, request: RequestContext = HTTP11, date?: string): FrameOutcome {
  return core.frameHead(response, request, date);
}

/** The framed head; fails the test with the frame error if there is one. */
function framed(response: ResponseHead, request: RequestContext = HTTP11, date?: string): FramedHead {
  const out = frame(response, request, date);
  if (out.tag !== "head") throw new Error(`expected a framed head, got ${JSON.stringify(out.val)}`);
  return out.val;
}

/** The framed head's bytes as a (latin1) string. */
function wire(response: ResponseHead, request: RequestContext = HTTP11, date?: string): string {
  return latin1(framed(response, request, date).bytes);
}

/** The frame error; fails the test if the response was framed. */
function refused(response: ResponseHead, request: RequestContext = HTTP11, date?: string): FrameError {
  const out = frame(response, request, date);
  if (out.tag !== "invalid") throw new Error(`expected a frame error, got ${JSON.stringify(latin1(out.val.bytes))}`);
  // "Nothing is produced": the outcome carries no bytes at all.
  expect(Object.keys(out.val).sort()).toEqual(["headerIndex", "reason"]);
  return out.val;
}

const h = (name: string, value: string): Field => ({ name, value });
/** Body length "not known up front" (a streamed body); `undefined` would select ok()'s default. */
const UNKNOWN = null;
const ok = (headers: Field[] = [], bodyLength: number | null = 0): ResponseHead => ({
  status: 200,
  headers,
  bodyLength: bodyLength ?? undefined,
});

describe("status line", () => {
  it("writes HTTP/1.1, the status and the default reason phrase", () => {
    expect(wire(ok())).toBe("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });

  it.each([
    [100, "Continue"],
    [101, "Switching Protocols"],
    [103, "Early Hints"],
    [201, "Created"],
    [204, "No Content"],
    [206, "Partial Content"],
    [301, "Moved Permanently"],
    [304, "Not Modified"],
    [308, "Permanent Redirect"],
    [400, "Bad Request"],
    [404, "Not Found"],
    [413, "Content Too Large"],
    [414, "URI Too Long"],
    [417, "Expectation Failed"],
    [422, "Unprocessable Content"],
    [431, "Request Header Fields Too Large"],
    [500, "Internal Server Error"],
    [501, "Not Implemented"],
    [503, "Service Unavailable"],
    [505, "HTTP Version Not Supported"],
  ])("status %i has the reason phrase %j", (status, reason) => {
    expect(wire({ status, headers: [], bodyLength: 0 })).toMatch(new RegExp(`^HTTP/1\\.1 ${status} ${reason}\\r\\n`));
  });

  it("uses a custom reason phrase verbatim (including HTAB, and UTF-8 as obs-text)", () => {
    expect(wire({ ...ok(), reason: "Fine, Thanks" })).toBe("HTTP/1.1 200 Fine, Thanks\r\nContent-Length: 0\r\n\r\n");
    expect(wire({ ...ok(), reason: "a\tb" })).toBe("HTTP/1.1 200 a\tb\r\nContent-Length: 0\r\n\r\n");
    const bytes = framed({ ...ok(), reason: "Très bien" }).bytes;
    expect(Buffer.from(bytes)).toEqual(Buffer.from("HTTP/1.1 200 Très bien\r\nContent-Length: 0\r\n\r\n", "utf8"));
  });

  it("keeps the space before an empty reason phrase", () => {
    expect(wire({ ...ok(), reason: "" })).toBe("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
  });

  it("writes an empty reason for unregistered codes, still with the space", () => {
    expect(wire({ status: 599, headers: [], bodyLength: 0 })).toBe("HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n");
    expect(wire({ status: 418, headers: [], bodyLength: 0 })).toMatch(/^HTTP\/1\.1 418 \r\n/);
    expect(wire({ status: 999, headers: [], bodyLength: 0 })).toMatch(/^HTTP\/1\.1 999 \r\n/);
  });

  it.each([0, 1, 99, 1000, 1234, 65535])("refuses status %i as bad-status", (status) => {
    expect(refused({ status, headers: [], bodyLength: 0 })).toEqual({ reason: "bad-status", headerIndex: undefined });
  });

  it.each([
    ["CR", "OK\rX"],
    ["LF", "OK\nX"],
    ["CRLF", "OK\r\nSet-Cookie: a=b"],
    ["NUL", "OK\0"],
    ["VT", "O\x0bK"],
    ["ESC", "\x1b[31mOK"],
    ["DEL", "OK\x7f"],
  ])("refuses a reason phrase with %s as bad-reason", (_name, reason) => {
    expect(refused({ ...ok(), reason })).toEqual({ reason: "bad-reason", headerIndex: undefined });
  });

  it("checks the status before the reason", () => {
    expect(refused({ status: 42, reason: "\r\n", headers: [], bodyLength: 0 }).reason).toBe("bad-status");
  });
});

describe("field injection", () => {
  const clean = [h("X-One", "1"), h("X-Two", "2")];

  it.each([
    ["CR", "a\rb"],
    ["LF", "a\nb"],
    ["CRLF", "a\r\nSet-Cookie: evil=1"],
    ["CRLF CRLF (response splitting)", "a\r\n\r\nHTTP/1.1 200 OK"],
    ["trailing CRLF", "value\r\n"],
    ["NUL", "a\0b"],
    ["leading NUL", "\0"],
    ["VT", "a\x0bb"],
    ["FF", "a\x0cb"],
    ["BS", "a\bb"],
    ["ESC", "\x1b]0;title\x07"],
    ["US", "a\x1fb"],
    ["DEL", "a\x7fb"],
  ])("refuses a value with %s as bad-header-value at its index", (_name, value) => {
    expect(refused(ok([...clean, h("X-Bad", value), h("X-After", "ok")]))).toEqual({ reason: "bad-header-value", headerIndex: 2 });
  });

  it("finds a control byte anywhere in a long value (past the 16-byte SIMD blocks)", () => {
    for (const at of [0, 15, 16, 17, 31, 32, 63, 64, 100]) {
      const value = "v".repeat(at) + "\n" + "w".repeat(40);
      expect(refused(ok([h("X-Long", value)]))).toEqual({ reason: "bad-header-value", headerIndex: 0 });
    }
  });

  it("allows HTAB, SP and obs-text in values and writes them verbatim", () => {
    const out = framed(ok([h("X-Tab", "a\tb c"), h("X-Utf8", "héllo €")])).bytes;
    expect(Buffer.from(out)).toEqual(
      Buffer.from("HTTP/1.1 200 OK\r\nX-Tab: a\tb c\r\nX-Utf8: héllo €\r\nContent-Length: 0\r\n\r\n", "utf8"),
    );
  });

  it("allows an empty value", () => {
    expect(wire(ok([h("X-Empty", "")]))).toBe("HTTP/1.1 200 OK\r\nX-Empty: \r\nContent-Length: 0\r\n\r\n");
  });

  it.each([
    ["empty", ""],
    ["space", "X Y"],
    ["trailing space", "X-Name "],
    ["colon", "X:Y"],
    ["CRLF", "X\r\nY"],
    ["HTAB", "X\tY"],
    ["NUL", "X\0"],
    ["non-ASCII", "Näme"],
    ["separator (", "(x)"],
    ["separator /", "a/b"],
    ["quote", 'a"b'],
    ["DEL", "a\x7f"],
  ])("refuses a name with %s as bad-header-name at its index", (_name, name) => {
    expect(refused(ok([...clean, h(name, "v")]))).toEqual({ reason: "bad-header-name", headerIndex: 2 });
  });

  it("accepts every tchar in a name", () => {
    const name = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    expect(wire(ok([h(name, "v")]))).toBe(`HTTP/1.1 200 OK\r\n${name}: v\r\nContent-Length: 0\r\n\r\n`);
  });

  it("reports the first bad field, name checked before value", () => {
    expect(refused(ok([h("X Y", "a\rb")]))).toEqual({ reason: "bad-header-name", headerIndex: 0 });
    expect(refused(ok([h("X-A", "a\rb"), h("X Y", "v")]))).toEqual({ reason: "bad-header-value", headerIndex: 0 });
  });

  it("refuses a Date argument with CR/LF as bad-header-value with no index", () => {
    expect(refused(ok(), HTTP11, `${DATE}\r\nSet-Cookie: a=b`)).toEqual({ reason: "bad-header-value", headerIndex: undefined });
  });

  it("checks fields even on responses that would be refused for their framing", () => {
    expect(refused({ status: 204, headers: [h("X", "\n")], bodyLength: 5 })).toEqual({ reason: "bad-header-value", headerIndex: 0 });
  });

  it("leaves nothing behind: the next call frames normally", () => {
    refused(ok([h("X-Bad", "a\r\nInjected: yes")]));
    expect(wire(ok([h("X-Good", "yes")]))).toBe("HTTP/1.1 200 OK\r\nX-Good: yes\r\nContent-Length: 0\r\n\r\n");
  });
});

describe("body framing", () => {
  it("known length: Content-Length and content-length mode", () => {
    const f = framed(ok([], 5));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    expect(f).toMatchObject({ body: "content-length", contentLength: 5, close: false });
  });

  it("known length 2^53 - 1 is written in full", () => {
    const f = framed(ok([], Number.MAX_SAFE_INTEGER));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 9007199254740991\r\n\r\n");
    expect(f).toMatchObject({ body: "content-length", contentLength: Number.MAX_SAFE_INTEGER });
  });

  it("length 0: Content-Length: 0 and mode none", () => {
    const f = framed(ok([], 0));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(f).toMatchObject({ body: "none", contentLength: 0, close: false });
  });

  it("unknown length to HTTP/1.1: Transfer-Encoding: chunked and chunked mode", () => {
    const f = framed(ok([], UNKNOWN));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect(f).toMatchObject({ body: "chunked", close: false });
  });

  it("unknown length to HTTP/1.0: close-delimited, Connection: close, close flag", () => {
    const f = framed(ok([], UNKNOWN), HTTP10);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    expect(f).toMatchObject({ body: "close-delimited", close: true });
  });

  it("HEAD with a known length: announces the would-be Content-Length, sends no body", () => {
    const f = framed(ok([], 42), HEAD11);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");
    expect(f).toMatchObject({ body: "none", contentLength: 42, close: false });
  });

  it("HEAD with a user Content-Length and unknown length: headers only", () => {
    const f = framed(ok([h("Content-Length", "42")], UNKNOWN), HEAD11);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");
    expect(f).toMatchObject({ body: "none", contentLength: 42, close: false });
  });

  it("HEAD with unknown length to HTTP/1.1: headers only, as a GET would announce them", () => {
    const f = framed(ok([], UNKNOWN), HEAD11);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect(f).toMatchObject({ body: "none", close: false });
  });

  it("HEAD with unknown length to HTTP/1.0: headers only, connection kept", () => {
    const f = framed(ok([], UNKNOWN), HEAD10);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n");
    expect(f).toMatchObject({ body: "none", close: false });
  });

  it.each([100, 101, 103, 204, 304])("status %i: no body, no Content-Length or Transfer-Encoding added", (status) => {
    const f = framed({ status, headers: [h("X-A", "b")], bodyLength: 0 });
    expect(latin1(f.bytes)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [A-Za-z ]+\\r\\nX-A: b\\r\\n\\r\\n$`));
    expect(f).toMatchObject({ body: "none", contentLength: 0 });
  });

  it("204 exact bytes", () => {
    expect(wire({ status: 204, headers: [], bodyLength: 0 }, HTTP11, DATE)).toBe(`HTTP/1.1 204 No Content\r\nDate: ${DATE}\r\n\r\n`);
  });

  it.each([100, 101, 103, 199, 204, 304])("status %i with a body is body-not-allowed", (status) => {
    expect(refused({ status, headers: [], bodyLength: 1 })).toEqual({ reason: "body-not-allowed", headerIndex: undefined });
    // A body of unknown length might be non-empty: also refused.
    expect(refused({ status, headers: [], bodyLength: undefined })).toEqual({ reason: "body-not-allowed", headerIndex: undefined });
  });

  it.each([100, 101, 204])("status %i with a user Content-Length or Transfer-Encoding is body-not-allowed at its index", (status) => {
    const x = h("X", "y");
    expect(refused({ status, headers: [x, h("Content-Length", "0")], bodyLength: 0 })).toEqual({ reason: "body-not-allowed", headerIndex: 1 });
    expect(refused({ status, headers: [x, x, h("Transfer-Encoding", "chunked")], bodyLength: 0 })).toEqual({
      reason: "body-not-allowed",
      headerIndex: 2,
    });
  });

  it("304 with a user Transfer-Encoding is body-not-allowed", () => {
    expect(refused({ status: 304, headers: [h("Transfer-Encoding", "chunked")], bodyLength: 0 })).toEqual({
      reason: "body-not-allowed",
      headerIndex: 0,
    });
  });

  it("304 may announce the selected representation's Content-Length", () => {
    const f = framed({ status: 304, headers: [h("ETag", '"x"'), h("Content-Length", "1234")], bodyLength: 0 });
    expect(latin1(f.bytes)).toBe('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 1234\r\n\r\n');
    expect(f).toMatchObject({ body: "none", contentLength: 1234 });
  });

  it("a user Content-Length equal to the known length is kept where it is, not duplicated", () => {
    const f = framed(ok([h("content-length", "5"), h("X-After", "1")], 5));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX-After: 1\r\n\r\n");
    expect(f).toMatchObject({ body: "content-length", contentLength: 5 });
  });

  it("a user Content-Length that differs from the known length is bad-content-length", () => {
    expect(refused(ok([h("X", "y"), h("Content-Length", "6")], 5))).toEqual({ reason: "bad-content-length", headerIndex: 1 });
    expect(refused(ok([h("Content-Length", "5")], 0))).toEqual({ reason: "bad-content-length", headerIndex: 0 });
  });

  it.each(["", "abc", "-1", "+5", "5.0", "0x5", " 5", "5 ", "5, 5", "9007199254740992", "99999999999999999999"])(
    "a user Content-Length of %j is bad-content-length",
    (value) => {
      expect(refused(ok([h("Content-Length", value)], UNKNOWN))).toEqual({ reason: "bad-content-length", headerIndex: 0 });
    },
  );

  it("two user Content-Lengths that disagree: bad-content-length at the second", () => {
    expect(refused(ok([h("Content-Length", "5"), h("Content-Length", "6")], UNKNOWN))).toEqual({
      reason: "bad-content-length",
      headerIndex: 1,
    });
  });

  it("a user Content-Length with unknown length: content-length mode with that length, no chunking", () => {
    const f = framed(ok([h("Content-Length", "11")], UNKNOWN));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
    expect(f).toMatchObject({ body: "content-length", contentLength: 11, close: false });
    const f10 = framed(ok([h("Content-Length", "11")], UNKNOWN), HTTP10);
    expect(latin1(f10.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n");
    expect(f10).toMatchObject({ body: "content-length", contentLength: 11, close: false });
  });

  it("a user Content-Length: 0 with unknown length: mode none", () => {
    expect(framed(ok([h("Content-Length", "0")], UNKNOWN))).toMatchObject({ body: "none", contentLength: 0 });
  });

  it("a user Transfer-Encoding: chunked with unknown length is kept, not duplicated", () => {
    const f = framed(ok([h("Transfer-Encoding", "chunked")], UNKNOWN));
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect(f.body).toBe("chunked");
    expect(framed(ok([h("transfer-encoding", "CHUNKED")], UNKNOWN)).body).toBe("chunked");
  });

  it.each(["gzip", "identity", "gzip, chunked", "chunked, gzip", "chunked;q=1", " chunked", ""])(
    "a user Transfer-Encoding of %j is bad-transfer-encoding",
    (value) => {
      expect(refused(ok([h("X", "y"), h("Transfer-Encoding", value)], UNKNOWN))).toEqual({
        reason: "bad-transfer-encoding",
        headerIndex: 1,
      });
    },
  );

  it("Transfer-Encoding with a known length is bad-transfer-encoding", () => {
    expect(refused(ok([h("Transfer-Encoding", "chunked")], 5))).toEqual({ reason: "bad-transfer-encoding", headerIndex: 0 });
    expect(refused(ok([h("Transfer-Encoding", "chunked")], 0))).toEqual({ reason: "bad-transfer-encoding", headerIndex: 0 });
  });

  it("Transfer-Encoding with a user Content-Length is bad-transfer-encoding", () => {
    expect(refused(ok([h("Content-Length", "5"), h("Transfer-Encoding", "chunked")], UNKNOWN))).toEqual({
      reason: "bad-transfer-encoding",
      headerIndex: 1,
    });
  });

  it("Transfer-Encoding to an HTTP/1.0 client is bad-transfer-encoding", () => {
    expect(refused(ok([h("Transfer-Encoding", "chunked")], UNKNOWN), HTTP10)).toEqual({
      reason: "bad-transfer-encoding",
      headerIndex: 0,
    });
  });

  it("a repeated Transfer-Encoding is bad-transfer-encoding at the second", () => {
    expect(refused(ok([h("Transfer-Encoding", "chunked"), h("Transfer-Encoding", "chunked")], UNKNOWN))).toEqual({
      reason: "bad-transfer-encoding",
      headerIndex: 1,
    });
  });
});

describe("Date and Connection", () => {
  it("adds Date from the argument, right after the status line", () => {
    expect(wire(ok([h("X-A", "b")], 2), HTTP11, DATE)).toBe(`HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nX-A: b\r\nContent-Length: 2\r\n\r\n`);
  });

  it("adds no Date without the argument", () => {
    expect(wire(ok())).not.toMatch(/date/i);
  });

  it("keeps the user's Date (any case) instead of adding one", () => {
    const userDate = "Mon, 07 Nov 1994 00:00:00 GMT";
    expect(wire(ok([h("date", userDate)]), HTTP11, DATE)).toBe(`HTTP/1.1 200 OK\r\ndate: ${userDate}\r\nContent-Length: 0\r\n\r\n`);
  });

  it.each([100, 101, 103])("adds no Date to a %i interim response", (status) => {
    expect(wire({ status, headers: [], bodyLength: 0 }, HTTP11, DATE)).not.toContain("Date");
  });

  it("context.close adds Connection: close and sets close", () => {
    const f = framed(ok([], 3), CLOSE11);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
    expect(f).toMatchObject({ body: "content-length", close: true });
  });

  it("context.close with a chunked body", () => {
    const f = framed(ok([], UNKNOWN), CLOSE11);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    expect(f).toMatchObject({ body: "chunked", close: true });
  });

  it.each(["close", "Close", "CLOSE", "foo, close", "close , foo", "\tclose\t"])(
    "a user Connection: %j sets close and is not duplicated",
    (value) => {
      const f = framed(ok([h("Connection", value)], 0));
      expect(latin1(f.bytes)).toBe(`HTTP/1.1 200 OK\r\nConnection: ${value}\r\nContent-Length: 0\r\n\r\n`);
      expect(f.close).toBe(true);
      const both = framed(ok([h("Connection", value)], 0), CLOSE11);
      expect(latin1(both.bytes).match(/connection/gi)).toHaveLength(1);
      expect(both.close).toBe(true);
    },
  );

  it("a user Connection without close does not close", () => {
    const f = framed(ok([h("Connection", "closed, upgrade")], 0));
    expect(f.close).toBe(false);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nConnection: closed, upgrade\r\nContent-Length: 0\r\n\r\n");
  });

  it("HTTP/1.0 keep-alive: adds Connection: keep-alive", () => {
    const f = framed(ok([], 4), HTTP10);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n");
    expect(f).toMatchObject({ body: "content-length", close: false });
  });

  it("HTTP/1.0 with the user's keep-alive: not duplicated", () => {
    const f = framed(ok([h("Connection", "Keep-Alive")], 4), HTTP10);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 4\r\n\r\n");
    expect(f.close).toBe(false);
  });

  it("HTTP/1.0 closing: Connection: close, no keep-alive", () => {
    const f = framed(ok([], 4), { head: false, http10: true, close: true });
    expect(latin1(f.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
    expect(f.close).toBe(true);
  });

  it("HTTP/1.1 keep-alive adds no Connection field", () => {
    expect(wire(ok([], 4))).toBe("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
  });

  it("an interim response leaves the connection to the final response", () => {
    const f = framed({ status: 100, headers: [], bodyLength: 0 }, CLOSE11, DATE);
    expect(latin1(f.bytes)).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    expect(f.close).toBe(false);
  });

  it("orders the fields: Date, the user's, the framing field, Connection", () => {
    expect(wire(ok([h("B", "2"), h("A", "1")], 7), { head: false, http10: false, close: true }, DATE)).toBe(
      `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nB: 2\r\nA: 1\r\nContent-Length: 7\r\nConnection: close\r\n\r\n`,
    );
  });
});

describe("chunk-size-line and last-chunk", () => {
  it.each([
    [0, "0"],
    [1, "1"],
    [10, "a"],
    [15, "f"],
    [16, "10"],
    [255, "ff"],
    [256, "100"],
    [4096, "1000"],
    [2 ** 32 - 1, "ffffffff"],
    [2 ** 32, "100000000"],
    [2 ** 53 - 1, "1fffffffffffff"],
  ])("chunkSizeLine(%i) is %j CRLF", (n, hex) => {
    expect(latin1(core.chunkSizeLine(n))).toBe(`${hex}\r\n`);
  });

  it("lastChunk with no trailers is 0 CRLF CRLF", () => {
    const out = core.lastChunk([]);
    expect(out.tag).toBe("bytes");
    if (out.tag === "bytes") expect(latin1(out.val)).toBe("0\r\n\r\n");
  });

  it("lastChunk writes the trailers between the last chunk and the final CRLF", () => {
    const out = core.lastChunk([h("X-Checksum", "abc123"), h("Server-Timing", "db;dur=53")]);
    expect(out.tag).toBe("bytes");
    if (out.tag === "bytes") expect(latin1(out.val)).toBe("0\r\nX-Checksum: abc123\r\nServer-Timing: db;dur=53\r\n\r\n");
  });

  it.each([
    [[h("Bad Name", "v")], { reason: "bad-header-name", headerIndex: 0 }],
    [[h("X", "ok"), h("", "v")], { reason: "bad-header-name", headerIndex: 1 }],
    [[h("X", "ok"), h("Y", "a\r\nInjected: 1")], { reason: "bad-header-value", headerIndex: 1 }],
    [[h("X", "\0")], { reason: "bad-header-value", headerIndex: 0 }],
    [[h("X", "ok"), h("Content-Length", "5")], { reason: "bad-content-length", headerIndex: 1 }],
    [[h("content-length", "5")], { reason: "bad-content-length", headerIndex: 0 }],
    [[h("Transfer-Encoding", "chunked")], { reason: "bad-transfer-encoding", headerIndex: 0 }],
    [[h("X", "1"), h("Y", "2"), h("TRANSFER-ENCODING", "gzip")], { reason: "bad-transfer-encoding", headerIndex: 2 }],
  ])("lastChunk(%j) is refused", (trailers, error) => {
    expect(core.lastChunk(trailers)).toEqual({ tag: "invalid", val: error });
  });
});

// ---- properties -------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split("");
const tokenName = fc
  .string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 40 })
  .filter((n) => !["content-length", "transfer-encoding", "connection", "date"].includes(n.toLowerCase()));
/** Field-value characters: VCHAR, SP, HTAB and non-ASCII (sent as UTF-8, i.e. obs-text). */
const valueChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant("\t") },
  { weight: 1, arbitrary: fc.constantFrom("é", "€", "😀", "\u00a0", "\u0085", "ÿ") },
);
const cleanValue = fc.string({ unit: valueChar, maxLength: 80 });

describe("properties", () => {
  it("any value with CR, LF or NUL anywhere is refused as bad-header-value at its index", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(tokenName, cleanValue), { maxLength: 4 }),
        tokenName,
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.constantFrom("\r", "\n", "\0", "\r\n"),
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.constantFrom<number | null>(0, 10, UNKNOWN),
        (before, name, prefix, bad, suffix, bodyLength) => {
          const headers = [...before.map(([n, v]) => h(n, v)), h(name, prefix + bad + suffix)];
          expect(refused(ok(headers, bodyLength))).toEqual({ reason: "bad-header-value", headerIndex: before.length });
          // The same bytes as a trailer are refused too.
          expect(core.lastChunk(headers)).toEqual({ tag: "invalid", val: { reason: "bad-header-value", headerIndex: before.length } });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("any token names with clean values are accepted and written verbatim, in order", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(tokenName, cleanValue), { maxLength: 8 }), (pairs) => {
        const headers = pairs.map(([n, v]) => h(n, v));
        const fields = pairs.map(([n, v]) => `${n}: ${v}\r\n`).join("");
        const out = framed(ok(headers, 0)).bytes;
        expect(Buffer.from(out)).toEqual(Buffer.from(`HTTP/1.1 200 OK\r\n${fields}Content-Length: 0\r\n\r\n`, "utf8"));
        const trailer = core.lastChunk(headers);
        expect(trailer.tag).toBe("bytes");
        if (trailer.tag === "bytes") expect(Buffer.from(trailer.val)).toEqual(Buffer.from(`0\r\n${fields}\r\n`, "utf8"));
      }),
      { numRuns: 300 },
    );
  });

  it("any status 100–999 with a clean reason gives exactly `HTTP/1.1 NNN reason CRLF`", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 999 }), cleanValue, (status, reason) => {
        const out = framed({ status, reason, headers: [], bodyLength: 0 }).bytes;
        const line = Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n`, "utf8");
        expect(Buffer.from(out).subarray(0, line.length)).toEqual(line);
      }),
    );
  });

  it("every framed head is one status line, field lines and one empty line, with one framing field at most", () => {
    const context = fc.record({ head: fc.boolean(), http10: fc.boolean(), close: fc.boolean() });
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.array(fc.tuple(tokenName, cleanValue), { maxLength: 4 }),
        fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
        context,
        fc.option(fc.constant(DATE), { nil: undefined }),
        (status, pairs, bodyLength, request, date) => {
          const out = frame({ status, headers: pairs.map(([n, v]) => h(n, v)), bodyLength }, request, date);
          if (out.tag === "invalid") {
            // Only a body on a status that can't have one, or an interim response to an
            // HTTP/1.0 client, is refused here.
            if (out.val.reason === "bad-status") {
              expect(status < 200 && request.http10).toBe(true);
            } else {
              expect(out.val.reason).toBe("body-not-allowed");
              expect(status < 200 || status === 204 || status === 205 || status === 304).toBe(true);
            }
            return;
          }
          const text = latin1(out.val.bytes);
          expect(text.endsWith("\r\n\r\n")).toBe(true);
          expect(text.indexOf("\r\n\r\n")).toBe(text.length - 4);
          const lines = text.slice(0, -4).split("\r\n");
          expect(lines[0]).toMatch(/^HTTP\/1\.1 \d{3} /);
          for (const line of lines.slice(1)) expect(line).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: /);
          const names = lines.slice(1).map((l) => l.slice(0, l.indexOf(":")).toLowerCase());
          const cl = names.filter((n) => n === "content-length").length;
          const te = names.filter((n) => n === "transfer-encoding").length;
          expect(cl + te).toBeLessThanOrEqual(1);
          expect(names.filter((n) => n === "connection").length).toBeLessThanOrEqual(1);
          if (out.val.body === "chunked") expect(te).toBe(1);
          if (out.val.body === "content-length") expect(cl).toBe(1);
          if (out.val.body === "close-delimited") expect(out.val.close).toBe(true);
          if (request.head) expect(out.val.body).toBe("none");
          if (request.close && status >= 200) expect(out.val.close).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("RFC corners", () => {
  const ctx11 = { head: false, http10: false, close: false };
  it("lets a HEAD response announce the length a GET would get, without the body (RFC 9110 §9.3.2)", () => {
    const out = frame({ status: 200, headers: [h("Content-Length", "1234")], bodyLength: 0 }, { head: true, http10: false, close: false });
    expect(out.tag).toBe("head");
    if (out.tag === "head") {
      expect(latin1(out.val.bytes)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
      expect(out.val.body).toBe("none");
      expect(out.val.contentLength).toBe(1234);
    }
    // Not for GET: there the body must match.
    const get = frame({ status: 200, headers: [h("Content-Length", "1234")], bodyLength: 0 }, ctx11);
    expect(get.tag === "invalid" && get.val.reason).toBe("bad-content-length");
  });

  it("refuses interim responses to HTTP/1.0 clients (RFC 9110 §15.2)", () => {
    for (const status of [100, 101, 103]) {
      const out = frame({ status, headers: [], bodyLength: 0 }, { head: false, http10: true, close: false });
      expect(out.tag === "invalid" && out.val.reason).toBe("bad-status");
    }
  });

  it("frames 205 Reset Content with no content (RFC 9110 §15.3.6)", () => {
    const ok = frame({ status: 205, headers: [], bodyLength: 0 }, ctx11);
    expect(ok.tag).toBe("head");
    if (ok.tag === "head") expect(latin1(ok.val.bytes)).toBe("HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n");
    for (const bodyLength of [5, undefined]) {
      const out = frame({ status: 205, headers: [], bodyLength }, ctx11);
      expect(out.tag === "invalid" && out.val.reason).toBe("body-not-allowed");
    }
  });

  it("leaves out an application's Connection: keep-alive when the connection closes", () => {
    const out = frame({ status: 200, headers: [h("Connection", "keep-alive"), h("X-A", "1")], bodyLength: 0 }, { head: false, http10: false, close: true });
    expect(out.tag).toBe("head");
    if (out.tag === "head") {
      expect(latin1(out.val.bytes)).toBe("HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      expect(out.val.close).toBe(true);
    }
  });

  it("a known body length above 2^53 - 1 is the core's bad-content-length, through the thin binding as through jco's", async () => {
    const jco = await loadJco();
    for (const length of [2 ** 53, 2 ** 60, 2 ** 64 - 2 ** 11]) {
      const ours = normalizeFrame(frame({ status: 200, headers: [], bodyLength: length }, ctx11));
      const theirs = normalizeJcoFrame(jco.frameHead({ ...jcoResponseHead({ status: 200, headers: [] }), bodyLength: BigInt(length) }, ctx11, undefined));
      expect(ours).toEqual({ tag: "invalid", val: { reason: "bad-content-length", headerIndex: null } });
      expect(ours).toEqual(theirs);
    }
    // What is no u64 at all is a programming error, refused before the call.
    for (const length of [-1, 1.5, Number.NaN, 2 ** 64]) expect(() => frame({ status: 200, headers: [], bodyLength: length }, ctx11)).toThrow(RangeError);
  });
});

// ---- the binding's memo of the last head ----------------------------------------------

describe("frameHead's memo (the same inputs as the last call skip the core)", () => {
  it("answers every call as the core does, for runs of equal and nearly equal heads", async () => {
    const jco = await loadJco();
    const mine = Core.load();
    // Small pools, so that consecutive draws are often equal (memo hits) or differ in one
    // input only (status, one field's name or value, the length, a flag, the date).
    const head = fc.record({
      status: fc.constantFrom(200, 204, 304, 404, 500),
      reason: fc.constantFrom(undefined, "Fine"),
      headers: fc.array(fc.record({ name: fc.constantFrom("Content-Type", "X-A", "Connection", "Content-Length"), value: fc.constantFrom("text/plain", "close", "13", "0") }), { maxLength: 3 }),
      bodyLength: fc.constantFrom(undefined, 0, 13),
    });
    const context = fc.record({ head: fc.boolean(), http10: fc.boolean(), close: fc.boolean() });
    const call = fc.tuple(head, context, fc.constantFrom(undefined, DATE, "Mon, 07 Nov 1994 08:49:37 GMT"));
    fc.assert(
      fc.property(fc.array(fc.tuple(call, fc.nat(3)), { minLength: 1, maxLength: 12 }), (calls) => {
        let previous: [ResponseHead, RequestContext, string | undefined] | undefined;
        for (const [drawn, repeat] of calls) {
          // repeat 0: the previous call's inputs again, as fresh objects (a memo hit).
          const [response, request, date] = repeat === 0 && previous ? structuredClone(previous) : drawn;
          const expected = normalizeJcoFrame(jco.frameHead(jcoResponseHead(response), request, date));
          expect(normalizeFrame(mine.frameHead(response, request, date))).toEqual(expected);
          previous = [response, request, date];
        }
      }),
      { numRuns: 300 },
    );
  });

  it("frames again when the caller changed the header list it framed from", () => {
    const headers: Field[] = [h("X-A", "1")];
    const first = latin1(framed({ status: 200, headers, bodyLength: 0 }).bytes);
    headers[0]!.value = "2";
    headers.push(h("X-B", "3"));
    const second = latin1(framed({ status: 200, headers, bodyLength: 0 }).bytes);
    expect(first).toBe("HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n");
    expect(second).toBe("HTTP/1.1 200 OK\r\nX-A: 2\r\nX-B: 3\r\nContent-Length: 0\r\n\r\n");
  });

  it("gives every call bytes of its own: a caller that overwrites its head changes no later one", () => {
    const response = { status: 200, headers: [h("X-A", "1")], bodyLength: 5 };
    const expected = "HTTP/1.1 200 OK\r\nDate: " + DATE + "\r\nX-A: 1\r\nContent-Length: 5\r\n\r\n";
    const first = framed(response, HTTP11, DATE);
    first.bytes.fill(0x2a);
    const second = framed({ ...response, headers: [h("X-A", "1")] }, HTTP11, DATE);
    expect(latin1(second.bytes)).toBe(expected);
    second.bytes.fill(0x2a);
    expect(latin1(framed(response, HTTP11, DATE).bytes)).toBe(expected);
  });
});

// ---- frameMessage: the head with the body behind it -------------------------------------

describe("frameMessage (the head and the body in one buffer)", () => {
  it("is frameHead with the body's UTF-8 length, followed by the body when the framing carries one", () => {
    const fresh = Core.load();
    const body = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: "grapheme", maxLength: 40 }), fc.uint8Array({ maxLength: 200 }));
    const context = fc.record({ head: fc.boolean(), http10: fc.boolean(), close: fc.boolean() });
    fc.assert(
      fc.property(fc.constantFrom(200, 204, 304, 404), fc.constantFrom<Field[]>([], [h("X-A", "1")], [h("Content-Length", "3")]), body, context, (status, headers, b, request) => {
        const bytes = typeof b === "string" ? Buffer.from(b) : Buffer.from(b);
        const expected = normalizeFrame(fresh.frameHead({ status, headers, bodyLength: bytes.length }, request, DATE));
        const out = core.frameMessage({ status, headers }, request, DATE, b);
        if (expected.tag === "invalid") {
          expect(out.tag).toBe("invalid");
          if (out.tag === "invalid") expect(normalizeFrame(out)).toEqual(expected);
          return;
        }
        expect(out.tag).toBe("message");
        if (out.tag !== "message") return;
        const head = Buffer.from(out.val.bytes.subarray(0, out.val.headLength)).toString("latin1");
        expect(head).toBe(expected.val.bytes);
        expect(out.val.body).toBe(expected.val.body);
        const rest = Buffer.from(out.val.bytes.subarray(out.val.headLength));
        expect(rest.equals(expected.val.body === "none" ? Buffer.alloc(0) : bytes)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("copies short ASCII, longer and non-ASCII text, and bytes exactly", () => {
    for (const body of ["ok", "x".repeat(65), "héllo", "😀 emoji", new Uint8Array([0, 255, 10])]) {
      const out = core.frameMessage({ status: 200, headers: [] }, HTTP11, undefined, body);
      if (out.tag !== "message") throw new Error("expected a message");
      const expected = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
      expect(Buffer.from(out.val.bytes.subarray(out.val.headLength)).equals(expected)).toBe(true);
      expect(latin1(out.val.bytes.subarray(0, out.val.headLength))).toContain(`Content-Length: ${expected.length}\r\n`);
    }
  });
});

// ---- real clients -----------------------------------------------------------------------

/**
 * A raw TCP server: for the n-th request head received on a connection it writes the
 * n-th response (a list of byte chunks) exactly as given; after the last one it ends the
 * connection.
 */
class RawServer {
  readonly server: Server;
  connections = 0;
  requests: string[] = [];

  constructor(responses: readonly (readonly Uint8Array[])[]) {
    this.server = createServer((socket: Socket) => {
      this.connections++;
      let buffered = "";
      let next = 0;
      socket.on("data", (data: Buffer) => {
        buffered += data.toString("latin1");
        for (let end = buffered.indexOf("\r\n\r\n"); end >= 0; end = buffered.indexOf("\r\n\r\n")) {
          this.requests.push(buffered.slice(0, end + 4));
          buffered = buffered.slice(end + 4);
          const response = responses[next++];
          if (response === undefined) {
            socket.destroy();
            return;
          }
          for (const chunk of response) socket.write(chunk);
          if (next === responses.length) socket.end();
        }
      });
      socket.on("error", () => undefined);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: string;
}

/** One request with node:http (llhttp), reading the whole response. */
function get(base: string, method = "GET", agent: Agent | false = false): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/`, { method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function bytes(...parts: (Uint8Array | string)[]): Uint8Array[] {
  return parts.map((p) => (typeof p === "string" ? utf8(p) : p));
}

/** A chunked body built from the core's own size lines and last chunk. */
function chunkedBody(chunks: string[], trailers: Field[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const data = utf8(c);
    out.push(core.chunkSizeLine(data.length), data, utf8("\r\n"));
  }
  const last = core.lastChunk(trailers);
  if (last.tag !== "bytes") throw new Error(`last-chunk refused: ${JSON.stringify(last.val)}`);
  out.push(last.val);
  return out;
}

describe("real clients accept the framed bytes", () => {
  const servers: RawServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function start(responses: readonly (readonly Uint8Array[])[]): Promise<{ base: string; server: RawServer }> {
    const server = new RawServer(responses);
    servers.push(server);
    return { base: await server.listen(), server };
  }

  const BODY = "hello, wörld";
  const bodyLength = utf8(BODY).length;
  const lengthResponse = (): Uint8Array[] => {
    const f = framed({ status: 200, headers: [h("Content-Type", "text/plain; charset=utf-8")], bodyLength }, HTTP11, DATE);
    expect(f).toMatchObject({ body: "content-length", contentLength: bodyLength });
    return [f.bytes, utf8(BODY)];
  };
  const chunkedResponse = (): Uint8Array[] => {
    const f = framed({ status: 201, headers: [h("Trailer", "X-Checksum")], bodyLength: undefined }, HTTP11, DATE);
    expect(f.body).toBe("chunked");
    return [f.bytes, ...chunkedBody(["hello", ", ", "wörld", "x".repeat(300)], [h("X-Checksum", "abc")])];
  };

  it("content-length: node:http and fetch read the body", async () => {
    const { base } = await start([lengthResponse()]);
    const res = await get(base);
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe(String(bodyLength));
    expect(res.headers["date"]).toBe(DATE);
    expect(res.body).toBe(BODY);

    const { base: base2 } = await start([lengthResponse()]);
    const fetched = await fetch(`${base2}/`);
    expect(fetched.status).toBe(200);
    expect(fetched.statusText).toBe("OK");
    expect(await fetched.text()).toBe(BODY);
  });

  it("chunked with the core's size lines and last chunk: body and trailers", async () => {
    const { base } = await start([chunkedResponse()]);
    const res = await get(base);
    expect(res.status).toBe(201);
    expect(res.headers["transfer-encoding"]).toBe("chunked");
    expect(res.body).toBe("hello, wörld" + "x".repeat(300));
    expect(res.trailers).toEqual({ "x-checksum": "abc" });

    const { base: base2 } = await start([chunkedResponse()]);
    const fetched = await fetch(`${base2}/`);
    expect(fetched.status).toBe(201);
    expect(await fetched.text()).toBe("hello, wörld" + "x".repeat(300));
  });

  it("HEAD: headers only, and the next response on the connection is read correctly", async () => {
    const headResponse = framed({ status: 200, headers: [], bodyLength: 42 }, HEAD11, DATE);
    expect(headResponse).toMatchObject({ body: "none", contentLength: 42 });
    const { base, server } = await start([[headResponse.bytes], lengthResponse()]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const head = await get(base, "HEAD", agent);
      expect(head.status).toBe(200);
      expect(head.headers["content-length"]).toBe("42");
      expect(head.body).toBe("");
      const next = await get(base, "GET", agent);
      expect(next.body).toBe(BODY);
      expect(server.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it("keep-alive: content-length then chunked responses on one connection", async () => {
    const { base, server } = await start([lengthResponse(), chunkedResponse(), lengthResponse()]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(base, "GET", agent)).body).toBe(BODY);
      const chunked = await get(base, "GET", agent);
      expect(chunked.body).toBe("hello, wörld" + "x".repeat(300));
      expect(chunked.trailers).toEqual({ "x-checksum": "abc" });
      expect((await get(base, "GET", agent)).body).toBe(BODY);
      expect(server.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it("close-delimited (the HTTP/1.0 framing): the body runs to the end of the connection", async () => {
    const f = framed({ status: 200, headers: [], bodyLength: undefined }, HTTP10);
    expect(f).toMatchObject({ body: "close-delimited", close: true });
    const { base } = await start([bytes(latin1(f.bytes), "streamed ", "until close")]);
    const res = await get(base);
    expect(res.headers["connection"]).toBe("close");
    expect(res.body).toBe("streamed until close");
  });

  it("204 and 304 without a body: the client does not wait for one", async () => {
    const noContent = framed({ status: 204, headers: [], bodyLength: 0 }, HTTP11, DATE);
    const notModified = framed({ status: 304, headers: [h("Content-Length", "99")], bodyLength: 0 }, HTTP11, DATE);
    const { base, server } = await start([[noContent.bytes], [notModified.bytes], lengthResponse()]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(base, "GET", agent)).toMatchObject({ status: 204, body: "" });
      expect(await get(base, "GET", agent)).toMatchObject({ status: 304, body: "" });
      expect((await get(base, "GET", agent)).body).toBe(BODY);
      expect(server.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe("CONNECT (request-context.connect): a 2xx opens a tunnel (RFC 9110 §9.3.6)", () => {
  const CONNECT: RequestContext = { head: false, http10: false, close: false, connect: true };

  it("frames a 2xx with no Content-Length, Transfer-Encoding or Connection field, mode none, not closing", () => {
    for (const bodyLength of [undefined, 0]) {
      const f = framed({ status: 200, headers: [h("Via", "1.1 proxy")], bodyLength }, CONNECT, DATE);
      expect(latin1(f.bytes)).toBe(`HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nVia: 1.1 proxy\r\n\r\n`);
      expect(f.body).toBe("none");
      expect(f.close).toBe(false);
    }
    // Even when the request asked to close, or came over HTTP/1.0: the tunnel takes over.
    for (const ctx of [{ ...CONNECT, close: true }, { ...CONNECT, http10: true }]) {
      const f = framed({ status: 204, headers: [], bodyLength: 0 }, ctx);
      expect(latin1(f.bytes)).toBe("HTTP/1.1 204 No Content\r\n\r\n");
      expect(f.close).toBe(false);
    }
  });

  it("refuses framing fields or a body on a tunnel's 2xx as body-not-allowed", () => {
    expect(refused({ status: 200, headers: [h("A", "1"), h("Content-Length", "0")] }, CONNECT)).toEqual({ reason: "body-not-allowed", headerIndex: 1 });
    expect(refused({ status: 200, headers: [h("Transfer-Encoding", "chunked")] }, CONNECT)).toEqual({ reason: "body-not-allowed", headerIndex: 0 });
    expect(refused({ status: 200, headers: [], bodyLength: 1 }, CONNECT)).toEqual({ reason: "body-not-allowed", headerIndex: undefined });
  });

  it("frames other statuses to CONNECT as for any request", () => {
    expect(wire({ status: 407, headers: [h("Proxy-Authenticate", "Basic")], bodyLength: 0 }, CONNECT)).toBe("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n");
    expect(framed({ status: 502, headers: [], bodyLength: 3 }, { ...CONNECT, close: true }).close).toBe(true);
  });
});
