// Errors, over real connections, run through serve(), accept() over a Web Streams pair and
// accept() over an in-memory duplex: handler failures, header injection, and every way the
// core rejects a request (smuggling attempts included): the status reaches the client with
// Connection: close, the connection closes, and nothing behind the rejected request runs.
import { afterEach, describe, expect, it } from "vitest";
import type { Handler, Request, ResponseWritten } from "../host/index.js";
import { MODES, header, parseResponses, sleep, startServer, until, type Mode, type StartOptions, type TestServer } from "./support/server-harness.js";

const get = (path: string, extra = ""): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
const SECRET = "db password is hunter2";

describe.each(MODES)("errors via %s", (mode: Mode) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (handler: Handler, options?: StartOptions): Promise<TestServer> => (server = await startServer(mode, handler, options));

  describe("handler failures", () => {
    it("a throw before sending → 500 without the cause; the connection stays usable", async () => {
      const s = await start(async (req, res) => {
        if (req.path === "/boom") throw new Error(SECRET);
        return res.setText("fine").send();
      });
      const c = await s.connect();
      await c.write(get("/boom"));
      const [r] = await c.responses(1);
      expect(r!.status).toBe(500);
      expect(r!.body.toString()).toBe("Internal Server Error\n");
      expect(c.text).not.toContain("hunter2");
      expect(header(r!, "connection")).toBeUndefined();
      await c.write(get("/ok"));
      const rs = await c.responses(2);
      expect(rs[1]!.body.toString()).toBe("fine");
      // The cause went to the logger, not the client.
      expect(s.log.errors.some((e) => e.rest.some((x) => x instanceof Error && x.message === SECRET))).toBe(true);
      c.destroy();
    });

    const throwing: [string, Handler][] = [
      ["an async handler rejects", async (req, res) => {
        if (req.path === "/boom") throw new Error(SECRET);
        return res.setText(req.path).send();
      }],
      ["a handler that isn't async throws synchronously", (req, res) => {
        if (req.path === "/boom") throw new Error(SECRET);
        return res.setText(req.path).send();
      }],
    ];
    it.each(throwing)("%s before sending, with more requests pipelined behind it → 500, then the rest are served", async (_name, handler) => {
      const s = await start(handler);
      const c = await s.connect();
      await c.write(get("/a") + get("/boom") + get("/b"));
      const rs = await c.responses(3);
      expect(rs.map((r) => r.status)).toEqual([200, 500, 200]);
      expect(rs[2]!.body.toString()).toBe("/b");
      expect(c.text).not.toContain("hunter2");
      expect(s.log.errors.some((e) => e.rest.some((x) => x instanceof Error && x.message === SECRET))).toBe(true);
      c.destroy();
    });

    it("a throw while a request body is still unread (body in the same packet) → 500, body drained", async () => {
      const s = await start(async (req, res) => {
        if (req.path === "/boom") throw new Error(SECRET);
        return res.setText(req.path).send();
      });
      const c = await s.connect();
      await c.write(`POST /boom HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody` + get("/after"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.status)).toEqual([500, 200]);
      c.destroy();
    });

    it("a throw after the head went out → the connection is closed, the response cut short", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        const body = res.stream();
        await body.write("partial");
        throw new Error(SECRET);
      });
      const c = await s.connect();
      await c.write(get("/1"));
      await c.waitEnded();
      expect(c.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(c.text).toContain("7\r\npartial\r\n");
      // No last chunk: the client can tell the body is incomplete.
      expect(c.text).not.toContain("0\r\n\r\n");
      expect(c.text).not.toContain("hunter2");
      expect(parseResponses(c.received, { eof: true }).responses).toHaveLength(0);
      expect(seen).toEqual(["/1"]);
    });

    it("a throw after the head went out, with a request pipelined behind: closed, the next one never runs", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        const body = res.stream();
        await body.write("partial");
        throw new Error(SECRET);
      });
      const c = await s.connect();
      await c.write(get("/1") + get("/2"));
      await c.waitEnded();
      expect(parseResponses(c.received, { eof: true }).responses).toHaveLength(0);
      expect(c.text).not.toContain("hunter2");
      expect(seen).toEqual(["/1"]);
    });

    it("a complete response to an earlier pipelined request survives a later request's failure after its head", async () => {
      const s = await start(async (req, res) => {
        if (req.path === "/ok") return res.setText("complete").send();
        const body = res.stream();
        await body.write("partial");
        throw new Error(SECRET);
      });
      const c = await s.connect();
      await c.write(get("/ok") + get("/fail"));
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.body.toString())).toEqual(["complete"]);
    });

    it.skipIf(mode !== "serve")("an abandoned close-delimited (HTTP/1.0) body ends with a reset, so the client can tell it's cut short", async () => {
      const s = await start(async (_req, res) => {
        const body = res.stream();
        await body.write("partial");
        await sleep(20);
        throw new Error(SECRET);
      });
      const c = await s.connect();
      await c.write("GET / HTTP/1.0\r\n\r\n");
      await c.waitEnded();
      expect(c.text).toMatch(/\r\n\r\npartial$/);
      // A clean FIN would make "partial" look like the whole body.
      expect((c.error as NodeJS.ErrnoException | undefined)?.code).toBe("ECONNRESET");
    });

    it("resolving without sending → 500 and a warning through the logger; connection usable", async () => {
      const s = await start(async (req, res) => {
        if (req.path === "/forgot") return undefined as unknown as ResponseWritten;
        return res.setText("ok").send();
      });
      const c = await s.connect();
      await c.write(get("/forgot"));
      const [r] = await c.responses(1);
      expect(r!.status).toBe(500);
      expect(s.log.warnings.length).toBe(1);
      expect(s.log.warnings[0]!.message).toMatch(/without sending/);
      expect(s.log.warnings[0]!.message).toContain("/forgot");
      await c.write(get("/ok"));
      const rs = await c.responses(2);
      expect(rs[1]!.status).toBe(200);
      c.destroy();
    });

    it("a handler that isn't async, sends, and returns no promise → a warning; the pipelined request behind it is served", async () => {
      const sendsAndReturnsNothing = (req: Request, res: Parameters<Handler>[1]): void => {
        void res.setText(req.path).send();
      };
      const s = await start(sendsAndReturnsNothing as unknown as Handler);
      const c = await s.connect();
      await c.write(get("/a") + get("/b"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.body.toString())).toEqual(["/a", "/b"]);
      expect(s.log.errors).toEqual([]);
      expect(s.log.warnings.some((w) => /\/a returned something other than its own ResponseWritten/.test(w.message))).toBe(true);
      c.destroy();
    });

    it("returning something other than its ResponseWritten (before the flush) → a warning", async () => {
      const s = await start(async (_req, res) => {
        void res.setText("sent").send();
        return { status: 200 } as unknown as ResponseWritten;
      });
      const c = await s.connect();
      await c.write(get("/forged"));
      const [r] = await c.responses(1);
      expect(r!.status).toBe(200);
      await until(() => s.log.warnings.length > 0);
      expect(s.log.warnings[0]!.message).toMatch(/\/forged returned something other than its own ResponseWritten/);
      c.destroy();
    });

    it("an onResponse that throws, with a logger whose error() throws too → send() rejects, the connection serves on", async () => {
      const warnings: string[] = [];
      const logger = {
        warn: (message: string): void => void warnings.push(message),
        error: (message: string): void => {
          throw new Error(`the logger failed on: ${message}`);
        },
      };
      const s = await start(async (req, res) => res.setText(req.path).send(), {
        logger,
        onResponse: () => {
          throw new Error("onResponse failed");
        },
      });
      const c = await s.connect();
      await c.write(get("/a") + get("/b"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.body.toString())).toEqual(["/a", "/b"]);
      await until(() => warnings.length >= 2);
      expect(warnings.every((w) => /threw after sending/.test(w))).toBe(true);
      c.destroy();
    });

    it("resolving without sending, with pipelined requests and a body behind it → 500, rest served", async () => {
      const s = await start(async (req, res) => {
        if (req.path === "/forgot") return undefined as unknown as ResponseWritten;
        return res.setText(req.path).send();
      });
      const c = await s.connect();
      await c.write(`POST /forgot HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi` + get("/next"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.status)).toEqual([500, 200]);
      expect(s.log.warnings.length).toBe(1);
      c.destroy();
    });

    it("resolving before a streamed response ended → the connection is closed and one error logged", async () => {
      const s = await start(async (_req, res) => {
        const body = res.stream();
        await body.write("x");
        return undefined as unknown as ResponseWritten;
      });
      const c = await s.connect();
      await c.write(get("/"));
      await c.waitEnded();
      expect(parseResponses(c.received, { eof: true }).responses).toHaveLength(0);
      // A truncated response is a failure after the head: one line at error level with what
      // was written (issue 12), where it was a warning before.
      expect(s.log.warnings).toEqual([]);
      expect(s.log.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^tophat: the response to GET "\/" failed after its head was sent \(error\): status 200, \d+ bytes written; the connection was closed: the handler for GET \/ returned before ending its streamed response$/)]);
    });
  });

  describe("header injection", () => {
    const attempts: [string, (res: Parameters<Handler>[1]) => unknown, RegExp][] = [
      ["CRLF in a setHeader value", (res) => res.setHeader("X-Evil", "a\r\nInjected: 1"), /X-Evil/],
      ["bare LF in a setHeader value", (res) => res.setHeader("X-Evil", "a\nInjected: 1"), /X-Evil/],
      ["bare CR in a setHeader value", (res) => res.setHeader("X-Evil", "a\rInjected: 1"), /X-Evil/],
      ["NUL in a setHeader value", (res) => res.setHeader("X-Evil", "a\0b"), /X-Evil/],
      ["CRLF in an appendHeader value", (res) => res.appendHeader("Set-Cookie", "a=1\r\n\r\n<html>"), /Set-Cookie/],
      ["CRLF in a name", (res) => res.setHeader("X-Evil\r\nInjected", "1"), /X-Evil/],
      ["a space in a name", (res) => res.setHeader("Bad Name", "1"), /Bad Name/],
      ["a colon in a name", (res) => res.setHeader("X:Y", "1"), /X:Y/],
      ["an empty name", (res) => res.setHeader("", "1"), /""/],
      ["non-ASCII in a name", (res) => res.appendHeader("Ünïcode", "1"), /Ünïcode/],
      ["DEL in a value", (res) => res.setHeader("X-Del", "a\x7fb"), /X-Del/],
    ];

    it.each(attempts)("%s throws a TypeError naming the header, and nothing is written", async (_name, attempt, names) => {
      let caught: unknown;
      const s = await start(async (_req, res) => {
        try {
          attempt(res);
        } catch (error) {
          caught = error;
        }
        return res.setText("clean").send();
      });
      const c = await s.connect();
      await c.write(get("/"));
      const [r] = await c.responses(1);
      expect(caught).toBeInstanceOf(TypeError);
      expect((caught as Error).message).toMatch(names);
      expect(r!.body.toString()).toBe("clean");
      expect(c.text).not.toContain("Injected");
      expect(c.text).not.toContain("<html>");
      expect(r!.headers.map(([k]) => k)).toEqual(["Date", "Content-Type", "Content-Length"]);
      c.destroy();
    });

    it("an unhandled injection attempt becomes a 500 without the header", async () => {
      const s = await start(async (_req, res) => res.setHeader("X-Evil", "a\r\nInjected: 1").setText("never").send());
      const c = await s.connect();
      await c.write(get("/"));
      const [r] = await c.responses(1);
      expect(r!.status).toBe(500);
      expect(c.text).not.toContain("Injected");
      expect(c.text).not.toContain("X-Evil");
      c.destroy();
    });
  });

  describe("core rejections", () => {
    /** Sends `bytes` (then a valid request behind them) and checks the rejection. */
    async function rejected(bytes: string, status: number, options?: StartOptions): Promise<void> {
      const seen: string[] = [];
      const responses: { req: Request | undefined; written: ResponseWritten }[] = [];
      const s = await start(
        async (req, res) => {
          seen.push(`${req.method} ${req.target}`);
          // Read the body, so a bad chunked body is found by the handler's read.
          await req.bytes();
          return res.setText("processed").send();
        },
        { ...options, onResponse: (req, written) => responses.push({ req, written }) },
      );
      const c = await s.connect();
      await c.write(bytes + get("/smuggled"));
      await c.waitEnded();
      const { responses: rs, rest } = parseResponses(c.received, { eof: true });
      const last = rs[rs.length - 1];
      expect(last?.status, `response to ${JSON.stringify(bytes)}: ${JSON.stringify(c.text)}`).toBe(status);
      expect(header(last!, "connection")).toBe("close");
      expect(header(last!, "content-type")).toMatch(/^text\/plain/);
      expect(last!.body.length).toBeGreaterThan(0);
      expect(last!.body.length).toBeLessThan(200);
      expect(rest.length).toBe(0);
      expect(seen.some((x) => x.includes("/smuggled"))).toBe(false);
      expect(c.text).not.toContain("processed");
      expect(responses.map((x) => x.written.status)).toContain(status);
    }

    const H = "Host: t\r\n";
    const cases: [string, string, number][] = [
      ["a malformed request line", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400],
      ["a bare LF line ending", "GET / HTTP/1.1\nHost: t\n\n", 400],
      ["a missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400],
      ["two Host fields", `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
      ["a space before the colon", `GET / HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello`, 400],
      ["obs-fold", `GET / HTTP/1.1\r\n${H}X-Folded: a\r\n b\r\n\r\n`, 400],
      ["a control byte in a header value", `GET / HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`, 400],
      ["CL + TE (CL.TE smuggling)", `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
      ["TE + CL (TE.CL smuggling)", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n0\r\n\r\n`, 400],
      ["TE in HTTP/1.0", `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
      ["conflicting duplicate Content-Length", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400],
      ["Content-Length list with different values", `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!`, 400],
      ["a negative Content-Length", `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
      ["a Content-Length with a plus sign", `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, 400],
      ["Transfer-Encoding: chunked, chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, 400],
      ["chunked not last", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, 400],
      ["an obfuscated Transfer-Encoding", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, 501],
      ["an unsupported transfer coding", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501],
      ["a bad chunk size", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
      ["a chunk size with a leading space", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`, 400],
      ["a chunk size overflow", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n`, 400],
      ["chunk data not followed by CRLF", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n`, 400],
      ["a bare LF after a chunk size", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 400],
      ["a fragment in the target", `GET /a#frag HTTP/1.1\r\n${H}\r\n`, 400],
      ["an unsupported version (HTTP/2.0)", `GET / HTTP/2.0\r\n${H}\r\n`, 505],
      ["an unsupported version (HTTP/3.0)", `GET / HTTP/3.0\r\n${H}\r\n`, 505],
      ["an unknown expectation", `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 2\r\n\r\nhi`, 417],
      ["a target over maxTargetLength", `GET /${"a".repeat(300)} HTTP/1.1\r\n${H}\r\n`, 414],
      ["a head over maxHeadBytes", `GET / HTTP/1.1\r\n${H}X-Big: ${"b".repeat(2000)}\r\n\r\n`, 431],
      ["more fields than maxHeaders", `GET / HTTP/1.1\r\n${H}${"X-F: 1\r\n".repeat(30)}\r\n`, 431],
    ];

    it.each(cases)("%s → the status, Connection: close, nothing behind it processed", async (_name, bytes, status) => {
      await rejected(bytes, status, { maxTargetLength: 256, maxHeadBytes: 1024, maxHeaders: 20 });
    });

    it.each([
      ["two identical Content-Length fields", "Content-Length: 5\r\nContent-Length: 5\r\n"],
      ["a Content-Length list of identical values", "Content-Length: 5, 5\r\n"],
    ])("%s: accepted as one length, and the request behind is framed right", async (_name, fields) => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(`${req.path}:${await req.text()}`);
        return res.setText(req.path).send();
      });
      const c = await s.connect();
      await c.write(`POST /p HTTP/1.1\r\nHost: t\r\n${fields}\r\nhello` + get("/next"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.status)).toEqual([200, 200]);
      expect(seen).toEqual(["/p:hello", "/next:"]);
      c.destroy();
    });

    it("HTTP/1.2 to HTTP/1.9 are served as HTTP/1.1, the highest minor version supported (RFC 9110 §2.5)", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(`${req.path} ${req.httpVersion}`);
        return res.setText(req.path).send();
      });
      const c = await s.connect();
      await c.write("GET /two HTTP/1.2\r\nHost: t\r\n\r\nGET /nine HTTP/1.9\r\nHost: t\r\n\r\n");
      const rs = await c.responses(2);
      expect(rs.map((r) => [r.status, header(r, "connection")])).toEqual([
        [200, undefined],
        [200, undefined],
      ]);
      expect(c.received.toString("latin1").match(/HTTP\/1\.1 200 OK\r\n/g)?.length).toBe(2);
      expect(seen).toEqual(["/two 1.1", "/nine 1.1"]);
      // Host is required, as for HTTP/1.1.
      const d = await s.connect();
      await d.write("GET / HTTP/1.2\r\n\r\n");
      expect((await d.responses(1))[0]!.status).toBe(400);
      c.destroy();
      d.destroy();
    });

    it("a rejection behind good pipelined requests: those are answered, then the rejection, then nothing", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        return res.setText(req.path).send();
      });
      const c = await s.connect();
      await c.write(get("/1") + get("/2") + "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab" + get("/3"));
      await c.waitEnded();
      const { responses, rest } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.status)).toEqual([200, 200, 400]);
      expect(header(responses[2]!, "connection")).toBe("close");
      expect(rest.length).toBe(0);
      expect(seen).toEqual(["/1", "/2"]);
    });

    it("a rejected head followed by more data: the client still gets the whole error response", async () => {
      const s = await start(async (_req, res) => res.setText("processed").send());
      const c = await s.connect();
      await c.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`);
      // The client keeps sending for a while, as a client uploading a body would.
      const chunk = "x".repeat(16 * 1024);
      const pushing = (async () => {
        for (let i = 0; i < 20 && !c.ended; i++) {
          await c.write(chunk).catch(() => undefined);
          await sleep(5);
        }
      })();
      await c.waitEnded();
      await pushing;
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.status)).toEqual([400]);
      expect(header(responses[0]!, "connection")).toBe("close");
    });

    it("a rejected head from a client that keeps sending and reads late: the error response isn't lost to a reset", async () => {
      const s = await start(async (_req, res) => res.setText("processed").send());
      const c = await s.connect();
      c.pauseReading();
      await c.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`);
      for (let i = 0; i < 40 && !c.ended; i++) {
        c.write(Buffer.alloc(16 * 1024, 0x78)).catch(() => undefined);
        await sleep(2);
      }
      await sleep(100);
      c.resumeReading();
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.status), `received ${JSON.stringify(c.text)}; error ${String(c.error)}`).toEqual([400]);
    });

    it("a handler's own answer to a request whose chunked body turns out bad: the connection closes", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        return res.setText("early").send(); // doesn't read the body
      });
      const c = await s.connect();
      await c.write(`POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n` + get("/smuggled"));
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.body.toString())).toEqual(["early"]);
      expect(seen).toEqual(["/p"]);
    });

    it("a bad chunk size arriving after the head, found by the handler's read → 400 with Connection: close", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        return res.setText(`read ${(await req.bytes()).length}`).send();
      });
      const c = await s.connect();
      await c.write(`POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`);
      await sleep(20);
      await c.write(`5\r\nhello\r\nzz\r\n` + get("/smuggled"));
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.status)).toEqual([400]);
      expect(header(responses[0]!, "connection")).toBe("close");
      expect(seen).toEqual(["/p"]);
    });

    it("the error response names no more than the reason (no echo of the request)", async () => {
      const s = await start(async (_req, res) => res.sendCode(204));
      const reply = (await s.rawRequest(`GET /<script> HTTP/1.1\r\nHost: t\r\nX-A: a\x01<script>\r\n\r\n`)).toString("latin1");
      expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(reply).not.toContain("<script>");
    });
  });
});
