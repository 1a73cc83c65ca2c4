// The ResponseWriter API over real connections, run through serve(), accept() over a Web
// Streams pair and accept() over an in-memory duplex: what goes on the wire, byte for byte.
import { afterEach, describe, expect, it } from "vitest";
import type { Handler, ResponseWritten } from "../host/index.js";
import {
  MODES,
  fetchWithin,
  gate,
  header,
  headerAll,
  parseResponses,
  sleep,
  startServer,
  until,
  type Mode,
  type RawResponse,
  type StartOptions,
  type TestServer,
} from "./support/server-harness.js";

const GET = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
const DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe.each(MODES)("responses via %s", (mode: Mode) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (handler: Handler, options?: StartOptions): Promise<TestServer> => (server = await startServer(mode, handler, options));

  /** One raw request, one parsed response (the connection is kept; the client is dropped after). */
  async function one(handler: Handler, request = GET, heads?: boolean[]): Promise<RawResponse> {
    const s = await start(handler);
    const c = await s.connect();
    await c.write(request);
    const [r] = await c.responses(1, heads ? { heads } : {});
    c.destroy();
    return r!;
  }

  describe("fixed bodies", () => {
    it("setText: byte-exact head and body", async () => {
      const r = await one(async (_req, res) => res.setText("héllo").send());
      const date = header(r, "date")!;
      expect(date).toMatch(DATE);
      expect(r.raw.toString("latin1")).toBe(
        `HTTP/1.1 200 OK\r\nDate: ${date}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\n` + Buffer.from("héllo").toString("latin1"),
      );
    });

    it("the Date field is the current second, also for identical responses a second apart (its cache and the framer's memo move on)", async () => {
      const dates: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = Math.floor(Date.now() / 1000) * 1000;
        const r = await one(async (_req, res) => res.setText("same").send());
        const after = Date.now();
        const date = Date.parse(header(r, "date")!);
        expect(date).toBeGreaterThanOrEqual(before);
        expect(date).toBeLessThanOrEqual(after);
        dates.push(date);
        await sleep(600);
      }
      expect(new Set(dates).size).toBeGreaterThan(1);
    });

    it("the Date field is the second the response was framed, even after a handler held the event loop for over a second", async () => {
      let framedAfter = 0;
      const s = await start(async (req, res) => {
        if (req.path === "/first") return res.setText("first").send(); // the Date is fresh here
        res.setText("late");
        const until = Date.now() + 1_100;
        while (Date.now() < until) {
          // Busy: no timer can run meanwhile.
        }
        framedAfter = Math.floor(Date.now() / 1000) * 1000;
        return res.send();
      });
      const c = await s.connect();
      await c.write(`GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /late HTTP/1.1\r\nHost: t\r\n\r\n`);
      const rs = await c.responses(2);
      expect(Date.parse(header(rs[1]!, "date")!)).toBeGreaterThanOrEqual(framedAfter);
      c.destroy();
    });

    it("setJson with the JSON content type", async () => {
      const r = await one(async (_req, res) => res.setJson({ a: 1, b: [true, null] }).send());
      expect(header(r, "content-type")).toBe("application/json");
      expect(r.body.toString()).toBe('{"a":1,"b":[true,null]}');
    });

    it("keeps a Content-Type the handler set before setText / setJson", async () => {
      const r = await one(async (_req, res) => res.setHeader("Content-Type", "application/problem+json").setJson({ x: 1 }).send());
      expect(headerAll(r, "content-type")).toEqual(["application/problem+json"]);
    });

    it("setBody with bytes; chainable setStatus", async () => {
      const r = await one(async (_req, res) => res.setStatus(201).setHeader("Content-Type", "application/octet-stream").setBody(new Uint8Array([0, 1, 2, 255])).send());
      expect(r.status).toBe(201);
      expect(r.reason).toBe("Created");
      expect([...r.body]).toEqual([0, 1, 2, 255]);
      expect(header(r, "content-length")).toBe("4");
    });

    it("a body larger than one write arrives intact (fetch)", async () => {
      const big = Buffer.alloc(300_000);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      const s = await start(async (_req, res) => res.setBody(big).send());
      const r = await fetchWithin(`${s.url}/`);
      expect(Buffer.from(await r.arrayBuffer()).equals(big)).toBe(true);
    });

    it("sendCode(204) sends no body and no Content-Length", async () => {
      const s = await start(async (_req, res) => res.sendCode(204));
      const c = await s.connect();
      await c.write(GET + GET);
      const rs = await c.responses(2);
      expect(rs[0]!.status).toBe(204);
      expect(header(rs[0]!, "content-length")).toBeUndefined();
      expect(header(rs[0]!, "transfer-encoding")).toBeUndefined();
      expect(Buffer.concat(rs.map((r) => r.raw)).equals(c.received)).toBe(true);
      c.destroy();
    });

    it("send() with no body sends Content-Length: 0", async () => {
      const r = await one(async (_req, res) => res.setStatus(202).send());
      expect(r.status).toBe(202);
      expect(header(r, "content-length")).toBe("0");
      expect(r.body.length).toBe(0);
    });

    it("setHeader replaces (any case), appendHeader adds, removeHeader removes; names keep their case", async () => {
      const r = await one(async (_req, res) =>
        res
          .setHeader("X-Replace", "old")
          .setHeader("x-replace", "new")
          .appendHeader("Set-Cookie", "a=1")
          .appendHeader("Set-Cookie", "b=2")
          .setHeader("X-Gone", "1")
          .removeHeader("x-GONE")
          .setHeader("X-Number", 42)
          .setText("ok")
          .send(),
      );
      expect(r.headers.filter(([k]) => k.toLowerCase() === "x-replace")).toEqual([["x-replace", "new"]]);
      expect(headerAll(r, "set-cookie")).toEqual(["a=1", "b=2"]);
      expect(header(r, "x-gone")).toBeUndefined();
      expect(header(r, "x-number")).toBe("42");
      expect(r.head.toString("latin1")).toContain("\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n");
    });

    it("HTAB and obs-text are allowed in header values", async () => {
      const r = await one(async (_req, res) => res.setHeader("X-Tab", "a\tb").setHeader("X-Latin", "caf\u00e9").sendCode(204));
      expect(r.head.toString("latin1")).toContain("\r\nX-Tab: a\tb\r\n");
      expect(header(r, "x-latin")).toBeDefined();
    });
  });

  describe("streamed bodies", () => {
    it("setBody(AsyncIterable) goes out chunked, byte-exact", async () => {
      async function* gen(): AsyncGenerator<Uint8Array> {
        yield Buffer.from("hello ");
        await sleep(5);
        yield Buffer.from("streaming ");
        yield Buffer.from("world");
      }
      const r = await one(async (_req, res) => res.setBody(gen()).send());
      expect(r.framing).toBe("chunked");
      expect(header(r, "content-length")).toBeUndefined();
      expect(r.rawBody.toString()).toBe("6\r\nhello \r\na\r\nstreaming \r\n5\r\nworld\r\n0\r\n\r\n");
    });

    it("setBody(ReadableStream) goes out chunked", async () => {
      const enc = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(enc.encode("web "));
          await sleep(5);
          controller.enqueue(enc.encode("stream"));
          controller.close();
        },
      });
      const r = await one(async (_req, res) => res.setBody(stream).send());
      expect(r.framing).toBe("chunked");
      expect(r.body.toString()).toBe("web stream");
      expect(r.rawBody.toString()).toBe("4\r\nweb \r\n6\r\nstream\r\n0\r\n\r\n");
    });

    it("setBody(ReadableStream) read by fetch", async () => {
      const s = await start(async (_req, res) => {
        let i = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (i === 50) controller.close();
            else controller.enqueue(new TextEncoder().encode(`line ${i++}\n`));
          },
        });
        return res.setHeader("Content-Type", "text/plain").setBody(stream).send();
      });
      const r = await fetchWithin(`${s.url}/`);
      const text = await r.text();
      expect(text.split("\n").length).toBe(51);
      expect(text.startsWith("line 0\nline 1\n")).toBe(true);
    });

    it("setBody(AsyncIterable) with a Content-Length the handler set is sent as is", async () => {
      async function* gen(): AsyncGenerator<Uint8Array> {
        yield Buffer.from("abc");
        yield Buffer.from("de");
      }
      const r = await one(async (_req, res) => res.setHeader("Content-Length", "5").setBody(gen()).send());
      expect(r.framing).toBe("content-length");
      expect(header(r, "transfer-encoding")).toBeUndefined();
      expect(r.body.toString()).toBe("abcde");
    });

    it("stream(): the head leaves before the body is written", async () => {
      const more = gate();
      const s = await start(async (_req, res) => {
        const body = res.stream();
        await body.write("first");
        await more.promise;
        await body.write("second");
        return body.end();
      });
      const c = await s.connect();
      await c.write(GET);
      await c.waitForText("5\r\nfirst\r\n");
      expect(c.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(c.text).toContain("\r\nTransfer-Encoding: chunked\r\n");
      more.open();
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("firstsecond");
      c.destroy();
    });

    it("stream().end(trailers) sends trailer fields after the last chunk, byte-exact", async () => {
      const r = await one(async (_req, res) => {
        const body = res.stream();
        await body.write("a");
        await body.write(new Uint8Array([0x62, 0x63]));
        return body.end({ "X-Sum": "3", "X-Checksum": "abc" });
      });
      expect(r.framing).toBe("chunked");
      expect(r.rawBody.toString()).toBe("1\r\na\r\n2\r\nbc\r\n0\r\nX-Sum: 3\r\nX-Checksum: abc\r\n\r\n");
      expect(r.trailers).toEqual([
        ["X-Sum", "3"],
        ["X-Checksum", "abc"],
      ]);
    });

    it("stream() with a Content-Length: ending short reports a length-mismatch outcome and closes the connection", async () => {
      let written: ResponseWritten | undefined;
      const s = await start(async (_req, res) => {
        const body = res.setHeader("Content-Length", "10").stream();
        await body.write("abc");
        return (written = await body.end());
      });
      const c = await s.connect();
      await c.write(GET + GET);
      await c.waitEnded();
      expect(c.text).toMatch(/\r\nContent-Length: 10\r\n\r\nabc$/);
      // The report now waits for the bytes before the failure to flush (so bytesWritten is
      // what the client got), which may come after the client sees the close.
      await until(() => written !== undefined, "the report");
      // The precise outcome (issue 12); it was the catch-all "error" before.
      expect(written?.outcome).toBe("length-mismatch");
      expect(written?.error?.message).toMatch(/short/);
      expect(parseResponses(c.received, { eof: true }).responses).toHaveLength(0);
    });

    it("stream() with a Content-Length: writing past it rejects, nothing extra goes out", async () => {
      let message = "";
      const s = await start(async (_req, res) => {
        const body = res.setHeader("Content-Length", "3").stream();
        await body.write("abc");
        try {
          await body.write("d");
        } catch (error) {
          message = (error as Error).message;
        }
        return body.end();
      });
      const c = await s.connect();
      await c.write(GET + GET);
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("abc");
      expect(message).toMatch(/longer than the Content-Length/);
      // The stray "d" never reached the wire: what follows is the next response or nothing.
      const rest = parseResponses(c.received).rest.toString("latin1");
      expect(rest === "" || rest.startsWith("HTTP/1.1 ")).toBe(true);
      expect(c.text).not.toMatch(/abcd/);
      c.destroy();
    });

    it("stream(): empty writes send no empty chunk (which would end the body early)", async () => {
      const r = await one(async (_req, res) => {
        const body = res.stream();
        await body.write("");
        await body.write(new Uint8Array(0));
        await body.write("x");
        return body.end();
      });
      expect(r.rawBody.toString()).toBe("1\r\nx\r\n0\r\n\r\n");
    });

    const badTrailers: [string, Record<string, string>, RegExp][] = [
      ["an invalid trailer name", { "X-Bad\r\nInjected": "1" }, /^TypeError: .*X-Bad/],
      ["a trailer value holding CRLF", { "X-Sum": "1\r\nInjected: yes" }, /^TypeError: .*X-Sum/],
    ];
    for (const [what, trailers, named] of badTrailers) {
      it(`stream().end() with ${what} rejects with a TypeError naming it; nothing injected; the connection closes`, async () => {
        let message = "";
        const s = await start(async (_req, res) => {
          const body = res.stream();
          await body.write("x");
          try {
            return await body.end(trailers);
          } catch (error) {
            message = `${(error as Error).name}: ${(error as Error).message}`;
            throw error;
          }
        });
        const c = await s.connect();
        await c.write(GET);
        await c.waitEnded();
        expect(message).toMatch(named);
        expect(c.text).not.toContain("Injected");
        // The body never got its last chunk: no complete response.
        expect(parseResponses(c.received, { eof: true }).responses).toHaveLength(0);
      });
    }
  });

  describe("status codes", () => {
    it.each([100, 101, 103])("%i can't be a handler's final response (the client would take the next response for it)", async (code) => {
      const s = await start(async (req, res) => (req.path === "/interim" ? res.sendCode(code) : res.setText(req.path).send()));
      const c = await s.connect();
      await c.write("GET /interim HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
      await c.waitForText("\r\n\r\n/b");
      const finals = parseResponses(c.received).responses.filter((r) => r.status >= 200);
      // One final response per request, in order: the second one answers /b.
      expect(finals.map((r) => r.body.toString()).slice(-1)).toEqual(["/b"]);
      expect(finals).toHaveLength(2);
      // Nothing may announce a protocol switch that doesn't happen.
      expect(c.text).not.toContain(" 101 ");
      c.destroy();
    });

    it("an unusual status (299) goes out with an empty reason phrase", async () => {
      const r = await one(async (_req, res) => res.setStatus(299).setText("x").send());
      expect(r.status).toBe(299);
      expect(r.head.toString("latin1")).toMatch(/^HTTP\/1\.1 299 \r\n/);
    });
  });

  describe("one send only", () => {
    it("a second send() throws and the first response is intact", async () => {
      const errors: string[] = [];
      const s = await start(async (_req, res) => {
        const written = await res.setText("first").send();
        for (const again of [() => res.send(), () => res.sendCode(500), () => Promise.resolve().then(() => res.stream())]) {
          try {
            await again();
            errors.push("no error");
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
        for (const change of [() => res.setHeader("X-Late", "1"), () => res.setStatus(404), () => res.setBody("late")]) {
          try {
            change();
            errors.push("no error");
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
        return written;
      });
      const c = await s.connect();
      await c.write(GET + GET);
      const rs = await c.responses(2);
      expect(rs[0]!.body.toString()).toBe("first");
      expect(Buffer.concat(rs.map((r) => r.raw)).equals(c.received)).toBe(true);
      await until(() => errors.length === 12, "both handlers to finish"); // six per request
      for (const e of errors) expect(e).toMatch(/already sent/);
      c.destroy();
    });

    it("two concurrent send() calls: one wins, the other throws", async () => {
      let outcome = "";
      const s = await start(async (_req, res) => {
        res.setText("once");
        const results = await Promise.allSettled([res.send(), res.send()]);
        outcome = results.map((r) => r.status).join(",");
        const ok = results.find((r): r is PromiseFulfilledResult<ResponseWritten> => r.status === "fulfilled");
        return ok!.value;
      });
      const c = await s.connect();
      await c.write(GET + GET);
      const rs = await c.responses(2);
      expect(rs[0]!.body.toString()).toBe("once");
      expect(parseResponses(c.received).rest.length).toBe(0);
      await until(() => outcome !== "", "the handler to finish");
      expect(outcome).toBe("fulfilled,rejected");
      c.destroy();
    });
  });
});
