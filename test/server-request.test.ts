// The Request API over real connections, run through serve(), accept() over a Web Streams
// pair and accept() over an in-memory duplex: head fields, query and headers, bodies read
// whole or streamed, chunked bodies with trailers, the maxBodyBytes cap.
import { afterEach, describe, expect, it } from "vitest";
import { Glitch, type Handler, type Request } from "../host/index.js";
import { MODES, fetchWithin, header, parseResponses, sleep, startServer, type Mode, type StartOptions, type TestServer } from "./support/server-harness.js";

describe.each(MODES)("requests via %s", (mode: Mode) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (handler: Handler, options?: StartOptions): Promise<TestServer> => (server = await startServer(mode, handler, options));

  /** Runs `inspect` on the request `raw` produces and returns its result (the handler answers 204). */
  async function inspect<T>(raw: string, look: (req: Request) => T | Promise<T>): Promise<T> {
    let result: { value: T } | undefined;
    const s = await start(async (req, res) => {
      result = { value: await look(req) };
      return res.sendCode(204);
    });
    const c = await s.connect();
    await c.write(raw);
    const [r] = await c.responses(1);
    expect(r!.status).toBe(204);
    c.destroy();
    if (!result) throw new Error("the handler didn't run");
    return result.value;
  }

  describe("head", () => {
    it("exposes method, target, path, query and version", async () => {
      const got = await inspect("PATCH /a/b%20c?x=1&y=two%20words&x=3&flag HTTP/1.1\r\nHost: t\r\n\r\n", (req) => ({
        method: req.method,
        target: req.target,
        path: req.path,
        x: req.query.getAll("x"),
        y: req.query.get("y"),
        flag: req.query.has("flag"),
        missing: req.query.get("nope"),
        version: req.httpVersion,
      }));
      expect(got).toEqual({
        method: "PATCH",
        target: "/a/b%20c?x=1&y=two%20words&x=3&flag",
        path: "/a/b%20c",
        x: ["1", "3"],
        y: "two words",
        flag: true,
        missing: null,
        version: "1.1",
      });
    });

    it("gives an empty query for a target without one, and keeps extension methods as sent", async () => {
      const got = await inspect("PROPFIND /dav HTTP/1.0\r\n\r\n", (req) => ({
        method: req.method,
        query: [...req.query.keys()],
        version: req.httpVersion,
        path: req.path,
      }));
      expect(got).toEqual({ method: "PROPFIND", query: [], version: "1.0", path: "/dav" });
    });

    it("takes path and query from an absolute-form target, and its authority", async () => {
      const got = await inspect("GET http://example.com:8080/abs/p?y=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", (req) => ({
        target: req.target,
        path: req.path,
        y: req.query.get("y"),
        authority: req.authority,
      }));
      expect(got).toEqual({ target: "http://example.com:8080/abs/p?y=1", path: "/abs/p", y: "1", authority: "example.com:8080" });
    });

    it("keeps the asterisk-form target of OPTIONS *", async () => {
      const got = await inspect("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", (req) => ({ method: req.method, target: req.target, path: req.path }));
      expect(got).toEqual({ method: "OPTIONS", target: "*", path: "*" });
    });

    it("reads header fields case-insensitively; getAll and entries keep wire order and case", async () => {
      const got = await inspect(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Multi: one\r\ncontent-TYPE: text/x\r\nx-multi: two\r\nX-MULTI: three\r\nX-Empty:\r\nX-Spaces:   padded value  \r\n\r\n",
        (req) => ({
          multi: req.headers.getAll("x-multi"),
          first: req.headers.get("X-MULTI"),
          type: req.headers.get("Content-Type"),
          has: req.headers.has("CONTENT-type"),
          hasNot: req.headers.has("x-absent"),
          absent: req.headers.get("x-absent"),
          absentAll: req.headers.getAll("x-absent"),
          empty: req.headers.get("x-empty"),
          spaces: req.headers.get("x-spaces"),
          entries: [...req.headers.entries()],
          iterated: [...req.headers].length,
        }),
      );
      expect(got).toEqual({
        multi: ["one", "two", "three"],
        first: "one",
        type: "text/x",
        has: true,
        hasNot: false,
        absent: undefined,
        absentAll: [],
        empty: "",
        spaces: "padded value",
        entries: [
          ["Host", "t"],
          ["X-Multi", "one"],
          ["content-TYPE", "text/x"],
          ["x-multi", "two"],
          ["X-MULTI", "three"],
          ["X-Empty", ""],
          ["X-Spaces", "padded value"],
        ],
        iterated: 7,
      });
    });

    it("decodes obs-text header bytes as Latin-1", async () => {
      const got = await inspect("GET / HTTP/1.1\r\nHost: t\r\nX-Latin: caf\xe9\r\n\r\n", (req) => req.headers.get("x-latin"));
      expect(got).toBe("caf\u00e9");
    });

    it("sees fetch's headers", async () => {
      let seen: [string, string][] = [];
      const s = await start(async (req, res) => {
        seen = [...req.headers.entries()];
        return res.sendCode(204);
      });
      const r = await fetchWithin(`${s.url}/h`, { headers: { "X-One": "1", "X-Two": "2" } });
      expect(r.status).toBe(204);
      const lower = seen.map(([k, v]) => [k.toLowerCase(), v]);
      expect(lower).toContainEqual(["x-one", "1"]);
      expect(lower).toContainEqual(["x-two", "2"]);
      expect(lower).toContainEqual(["host", `127.0.0.1:${s.port}`]);
    });
  });

  describe("body read whole", () => {
    const echo: Handler = async (req, res) => {
      const kind = req.query.get("as");
      if (kind === "json") return res.setJson({ got: await req.json() }).send();
      if (kind === "bytes") {
        const b = await req.bytes();
        return res.setHeader("Content-Type", "application/octet-stream").setBody(b).send();
      }
      return res.setText(await req.text()).send();
    };

    it("req.text() with fetch", async () => {
      const s = await start(echo);
      const r = await fetchWithin(`${s.url}/?as=text`, { method: "POST", body: "héllo wörld ✓" });
      expect(await r.text()).toBe("héllo wörld ✓");
    });

    it("req.json() with fetch", async () => {
      const s = await start(echo);
      const r = await fetchWithin(`${s.url}/?as=json`, { method: "POST", body: JSON.stringify({ a: [1, 2], b: "x" }), headers: { "content-type": "application/json" } });
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(await r.json()).toEqual({ got: { a: [1, 2], b: "x" } });
    });

    it("req.json() on malformed JSON → 400", async () => {
      const s = await start(echo);
      const r = await fetchWithin(`${s.url}/?as=json`, { method: "POST", body: "{nope" });
      expect(r.status).toBe(400);
      expect(await r.text()).toMatch(/JSON/);
    });

    it("req.text() on invalid UTF-8 → 400", async () => {
      const s = await start(echo);
      const c = await s.connect();
      await c.write("POST /?as=text HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n\xff\xfe");
      const [r] = await c.responses(1);
      expect(r!.status).toBe(400);
      c.destroy();
    });

    it("req.bytes() keeps every byte value (raw socket, byte-exact echo)", async () => {
      const s = await start(echo);
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const c = await s.connect();
      await c.write(Buffer.concat([Buffer.from(`POST /?as=bytes HTTP/1.1\r\nHost: t\r\nContent-Length: 256\r\n\r\n`), all]));
      const [r] = await c.responses(1);
      expect(r!.body.equals(all)).toBe(true);
      c.destroy();
    });

    it("req.bytes() of a large body sent by fetch (900 KiB, under the 1 MiB default)", async () => {
      const s = await start(async (req, res) => {
        const b = await req.bytes();
        let sum = 0;
        for (const x of b) sum = (sum + x) % 65521;
        return res.setText(`${b.length}:${sum}`).send();
      });
      const body = Buffer.alloc(900 * 1024);
      for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
      let sum = 0;
      for (const x of body) sum = (sum + x) % 65521;
      const r = await fetchWithin(`${s.url}/`, { method: "POST", body });
      expect(await r.text()).toBe(`${body.length}:${sum}`);
    });

    it("answers 413 when a Content-Length body is over maxBodyBytes, and the connection survives", async () => {
      const seen: string[] = [];
      const s = await start(
        async (req, res) => {
          seen.push(req.path);
          return res.setText(`${(await req.bytes()).length}`).send();
        },
        { maxBodyBytes: 100 },
      );
      const c = await s.connect();
      await c.write(`POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n${"a".repeat(101)}` + `POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n${"b".repeat(100)}`);
      const rs = await c.responses(2);
      expect(rs[0]!.status).toBe(413);
      expect(rs[0]!.body.toString()).toMatch(/100 bytes/);
      expect(rs[1]!.status).toBe(200);
      expect(rs[1]!.body.toString()).toBe("100");
      expect(seen).toEqual(["/big", "/ok"]);
      c.destroy();
    });

    it("answers 413 when a chunked body grows over maxBodyBytes", async () => {
      const s = await start(async (req, res) => res.setText(`${(await req.text()).length}`).send(), { maxBodyBytes: 10 });
      const c = await s.connect();
      await c.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n");
      const [r] = await c.responses(1);
      expect(r!.status).toBe(413);
      c.destroy();
    });

    it("answers 413 to fetch with the default cap of 1 MiB", async () => {
      const s = await start(async (req, res) => res.setText(`${(await req.bytes()).length}`).send());
      const r = await fetchWithin(`${s.url}/`, { method: "POST", body: Buffer.alloc(1024 * 1024 + 1) });
      expect(r.status).toBe(413);
      await r.arrayBuffer();
      const ok = await fetchWithin(`${s.url}/`, { method: "POST", body: Buffer.alloc(1024 * 1024) });
      expect(await ok.text()).toBe(String(1024 * 1024));
    });

    it("lets the body be taken only once", async () => {
      const s = await start(async (req, res) => {
        await req.text();
        try {
          await req.text();
          return res.setText("read twice").send();
        } catch (error) {
          return res.setText(`second read: ${(error as Error).name}`).send();
        }
      });
      const r = await fetchWithin(`${s.url}/`, { method: "POST", body: "x" });
      expect(await r.text()).toBe("second read: TypeError");
    });

    it("reads an empty body for a GET", async () => {
      const s = await start(async (req, res) => res.setText(`[${await req.text()}] [${req.trailers.size}]`).send());
      const r = await fetchWithin(`${s.url}/`);
      expect(await r.text()).toBe("[] [0]");
    });
  });

  describe("body streamed", () => {
    it("hands out a chunked body piece by piece as it arrives", async () => {
      const arrivals: string[] = [];
      const s = await start(async (req, res) => {
        for await (const chunk of req.body) arrivals.push(Buffer.from(chunk).toString());
        return res.setText(arrivals.join("|")).send();
      });
      const c = await s.connect();
      await c.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (const piece of ["first", "second", "third"]) {
        await c.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
        await sleep(20);
      }
      await c.write("0\r\n\r\n");
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("first|second|third");
      c.destroy();
    });

    it("streams a Content-Length body, including bytes that came with the head", async () => {
      const s = await start(async (req, res) => {
        let total = "";
        for await (const chunk of req.body) total += Buffer.from(chunk).toString();
        return res.setText(total).send();
      });
      const c = await s.connect();
      await c.write("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 12\r\n\r\nhello ");
      await sleep(20);
      await c.write("world!");
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("hello world!");
      c.destroy();
    });

    it("is not capped by maxBodyBytes", async () => {
      const s = await start(
        async (req, res) => {
          let n = 0;
          for await (const chunk of req.body) n += chunk.length;
          return res.setText(String(n)).send();
        },
        { maxBodyBytes: 10 },
      );
      const r = await fetchWithin(`${s.url}/`, { method: "POST", body: "x".repeat(5000) });
      expect(await r.text()).toBe("5000");
    });

    it("streams a request body from fetch's ReadableStream upload", async () => {
      const s = await start(async (req, res) => {
        const parts: number[] = [];
        for await (const chunk of req.body) parts.push(chunk.length);
        return res.setText(String(parts.reduce((a, b) => a + b, 0))).send();
      });
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let i = 0; i < 5; i++) {
            controller.enqueue(enc.encode("y".repeat(1000)));
            await sleep(5);
          }
          controller.close();
        },
      });
      const r = await fetchWithin(`${s.url}/`, { method: "POST", body, duplex: "half" } as RequestInit & { duplex: "half" });
      expect(await r.text()).toBe("5000");
    });
  });

  describe("chunked request trailers", () => {
    it("are available as req.trailers once the body was read (and empty before)", async () => {
      const s = await start(async (req, res) => {
        const before = req.trailers.size;
        const text = await req.text();
        return res
          .setJson({
            before,
            text,
            sum: req.trailers.get("x-checksum"),
            all: req.trailers.getAll("X-Multi"),
            entries: [...req.trailers.entries()],
          })
          .send();
      });
      const c = await s.connect();
      await c.write(
        "POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
          "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Checksum: abc123\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n",
      );
      const [r] = await c.responses(1);
      expect(JSON.parse(r!.body.toString())).toEqual({
        before: 0,
        text: "Wikipedia",
        sum: "abc123",
        all: ["1", "2"],
        entries: [
          ["X-Checksum", "abc123"],
          ["X-Multi", "1"],
          ["x-multi", "2"],
        ],
      });
      c.destroy();
    });

    it("are collected when the trailer section arrives in pieces", async () => {
      const s = await start(async (req, res) => {
        for await (const _ of req.body) void _;
        return res.setText(`${req.trailers.get("x-a")},${req.trailers.get("x-b")}`).send();
      });
      const c = await s.connect();
      await c.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-A: 1");
      await sleep(20);
      await c.write("\r\nX-");
      await sleep(20);
      await c.write("B: 2\r\n");
      await sleep(20);
      await c.write("\r\n");
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("1,2");
      c.destroy();
    });
  });

  describe("Glitch from a handler", () => {
    it("becomes its status, message and headers", async () => {
      const s = await start(async () => {
        throw new Glitch(405, "use POST", { headers: { Allow: "POST" } });
      });
      const c = await s.connect();
      await c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      const [r] = await c.responses(1);
      expect(r!.status).toBe(405);
      expect(header(r!, "allow")).toBe("POST");
      expect(r!.body.toString()).toBe("use POST\n");
      // And the connection is still usable.
      await c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      const rs = await c.responses(2);
      expect(rs[1]!.status).toBe(405);
      expect(parseResponses(c.received).rest.length).toBe(0);
      c.destroy();
    });
  });
});
