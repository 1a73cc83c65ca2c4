// Connection behaviour, run through serve(), accept() over a Web Streams pair and
// accept() over an in-memory duplex: keep-alive, pipelining, HTTP/1.0, Connection: close,
// 100-continue, HEAD, draining unread bodies.
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { Handler, ResponseWritten } from "../host/index.js";
import { skipWithout } from "./support/tools.js";
import {
  MODES,
  curl,
  fetchWithin,
  gate,
  header,
  headerAll,
  parseResponses,
  sleep,
  startServer,
  until,
  type Mode,
  type StartOptions,
  type TestServer,
} from "./support/server-harness.js";

const noCurl = skipWithout("curl", "the curl tests of server-connection");

const get = (path: string, extra = ""): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe.each(MODES)("connections via %s", (mode: Mode) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (handler: Handler, options?: StartOptions): Promise<TestServer> => (server = await startServer(mode, handler, options));

  describe("keep-alive", () => {
    it("serves several requests, one after another, on one raw connection", async () => {
      let n = 0;
      const s = await start(async (req, res) => res.setText(`#${++n} ${req.path}`).send());
      const c = await s.connect();
      for (let i = 0; i < 3; i++) {
        await c.write(get(`/r${i}`));
        const rs = await c.responses(i + 1);
        const r = rs[i]!;
        expect(r.status).toBe(200);
        expect(r.body.toString()).toBe(`#${i + 1} /r${i}`);
        expect(header(r, "connection")).toBeUndefined();
      }
      expect(await c.stillOpenAfter(50)).toBe(true);
      expect(parseResponses(c.received).rest.length).toBe(0);
      c.destroy();
      if (s.summaries) {
        const summary = await s.summaries[0]!;
        expect(summary.requests).toBe(3);
      }
    });

    it.skipIf(noCurl)("lets curl reuse one connection for several URLs", async () => {
      const s = await start(async (req, res) => res.setText(req.path.slice(1).toUpperCase()).send());
      const out = await curl([`${s.url}/a`, `${s.url}/b`, `${s.url}/c`, "-w", "|%{num_connects}|%{http_code}\n"]);
      expect(out.stderr).toBe("");
      expect(out.stdout).toBe("A|1|200\nB|0|200\nC|0|200\n");
    });

    it.skipIf(noCurl)("lets curl --next reuse the connection", async () => {
      const s = await start(async (req, res) => res.setText(req.path).send());
      const w = ["-w", "|%{num_connects}\n"];
      const out = await curl([`${s.url}/one`, ...w, "--next", `${s.url}/two`, ...w, "--next", "-X", "POST", "--data-binary", "xyz", `${s.url}/three`, ...w]);
      expect(out.stderr).toBe("");
      expect(out.stdout).toBe("/one|1\n/two|0\n/three|0\n");
    });

    it("keeps the connection after a POST whose body the handler read", async () => {
      const s = await start(async (req, res) => res.setText(`${req.path}:${await req.text()}`).send());
      const c = await s.connect();
      await c.write(`POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc`);
      await c.responses(1);
      await c.write(get("/g"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.body.toString())).toEqual(["/p:abc", "/g:"]);
      c.destroy();
    });
  });

  describe("pipelining", () => {
    it("answers 10 requests sent in one write in order, byte-exact, without interleaving", async () => {
      let active = 0;
      let maxActive = 0;
      const s = await start(async (req, res) => {
        active++;
        maxActive = Math.max(maxActive, active);
        const i = Number(req.path.slice(1));
        // Earlier requests take longer: a server answering as handlers finish would reorder.
        await sleep((9 - i) * 3);
        active--;
        return res.setText(`response ${i}`).send();
      });
      const c = await s.connect();
      await c.write(Array.from({ length: 10 }, (_, i) => get(`/${i}`)).join(""));
      const rs = await c.responses(10);
      expect(rs.map((r) => r.body.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `response ${i}`));
      for (const r of rs) {
        expect(r.status).toBe(200);
        expect(header(r, "content-length")).toBe(String(r.body.length));
      }
      // Nothing but those ten responses, back to back.
      expect(Buffer.concat(rs.map((r) => r.raw)).equals(c.received)).toBe(true);
      expect(maxActive).toBe(1);
      expect(await c.stillOpenAfter(30)).toBe(true);
      c.destroy();
    });

    it("finds heads of every size among pipelined ones: small, over 2 KiB, and ending right at or across the 2 KiB mark", async () => {
      const s = await start(async (req, res) => res.setText(`${req.path} ${req.headers.get("x-pad")?.length ?? 0}`).send());
      const padded = (path: string, pad: number): string => get(path, `X-Pad: ${"p".repeat(pad)}\r\n`);
      const base = padded("/b", 0).length - 0;
      // /b's head ends exactly at byte 2048 of the batch (after /a); /c's crosses it; /d is 5 KiB.
      const a = get("/a");
      const batch = [a, padded("/b", 2048 - a.length - base), padded("/c", 100), padded("/d", 5000), get("/e")];
      const c = await s.connect();
      await c.write(batch.join(""));
      const rs = await c.responses(5);
      expect(rs.map((r) => r.body.toString())).toEqual(["/a 0", `/b ${2048 - a.length - base}`, "/c 100", "/d 5000", "/e 0"]);
      expect(a.length + batch[1]!.length).toBe(2048);
      c.destroy();
    });

    it("keeps streamed (chunked) responses to pipelined requests whole and in order", async () => {
      const s = await start(async (req, res) => {
        const body = res.stream();
        for (let k = 0; k < 3; k++) {
          await body.write(`${req.path}-${k};`);
          await sleep(2);
        }
        return body.end();
      });
      const c = await s.connect();
      await c.write(Array.from({ length: 5 }, (_, i) => get(`/s${i}`)).join(""));
      const rs = await c.responses(5);
      rs.forEach((r, i) => {
        expect(r.framing).toBe("chunked");
        expect(r.body.toString()).toBe(`/s${i}-0;/s${i}-1;/s${i}-2;`);
      });
      expect(Buffer.concat(rs.map((r) => r.raw)).equals(c.received)).toBe(true);
      c.destroy();
    });

    it("answers pipelined requests with bodies (Content-Length and chunked) in order", async () => {
      const s = await start(async (req, res) => res.setText(`${req.method} ${req.path} [${await req.text()}]`).send());
      const c = await s.connect();
      await c.write(
        `POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello` +
          `POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n` +
          get("/c") +
          `PUT /d HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n`,
      );
      const rs = await c.responses(4);
      expect(rs.map((r) => r.body.toString())).toEqual(["POST /a [hello]", "POST /b [abcde]", "GET /c []", "PUT /d []"]);
      c.destroy();
    });

    it("serves requests split across writes at odd places", async () => {
      const s = await start(async (req, res) => res.setText(`${req.path}:${await req.text()}`).send());
      const c = await s.connect();
      const all = get("/x") + `POST /y HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody` + get("/z");
      for (const piece of [all.slice(0, 7), all.slice(7, 30), all.slice(30, 61), all.slice(61)]) {
        await c.write(piece);
        await sleep(5);
      }
      const rs = await c.responses(3);
      expect(rs.map((r) => r.body.toString())).toEqual(["/x:", "/y:body", "/z:"]);
      c.destroy();
    });
  });

  describe("HTTP/1.0", () => {
    it("closes after the response when the client did not ask for keep-alive", async () => {
      const s = await start(async (req, res) => res.setText(`v${req.httpVersion}`).send());
      const c = await s.connect();
      await c.write("GET /old HTTP/1.0\r\n\r\n");
      await c.waitEnded();
      const { responses, rest } = parseResponses(c.received, { eof: true });
      expect(responses).toHaveLength(1);
      expect(rest.length).toBe(0);
      const r = responses[0]!;
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe("v1.0");
      expect(r.framing).toBe("content-length");
      expect(header(r, "connection")?.toLowerCase()).toBe("close");
      expect(header(r, "transfer-encoding")).toBeUndefined();
    });

    it("keeps the connection when the client sends Connection: keep-alive", async () => {
      const s = await start(async (req, res) => res.setText(req.path).send());
      const c = await s.connect();
      await c.write("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const [r1] = await c.responses(1);
      expect(r1!.body.toString()).toBe("/1");
      expect(header(r1!, "connection")?.toLowerCase()).toBe("keep-alive");
      expect(await c.stillOpenAfter(50)).toBe(true);
      await c.write("GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const rs = await c.responses(2);
      expect(rs[1]!.body.toString()).toBe("/2");
      // And a final 1.0 request without keep-alive ends it.
      await c.write("GET /3 HTTP/1.0\r\n\r\n");
      await c.waitEnded();
      const all = parseResponses(c.received, { eof: true }).responses;
      expect(all.map((r) => r.body.toString())).toEqual(["/1", "/2", "/3"]);
    });

    it("sends a streamed body close-delimited (no chunked) and then closes", async () => {
      const s = await start(async (_req, res) => {
        const body = res.stream();
        await body.write("part1,");
        await body.write("part2");
        return body.end();
      });
      const c = await s.connect();
      await c.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      await c.waitEnded();
      const [r] = parseResponses(c.received, { eof: true }).responses;
      expect(r!.framing).toBe("close");
      expect(header(r!, "transfer-encoding")).toBeUndefined();
      expect(r!.body.toString()).toBe("part1,part2");
    });
  });

  describe("Connection: close", () => {
    it("from the client: answers with Connection: close, closes, and ignores what follows", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        return res.setText("bye").send();
      });
      const c = await s.connect();
      await c.write(get("/1", "Connection: close\r\n") + get("/2"));
      await c.waitEnded();
      const { responses, rest } = parseResponses(c.received, { eof: true });
      expect(responses).toHaveLength(1);
      expect(rest.length).toBe(0);
      expect(header(responses[0]!, "connection")).toBe("close");
      expect(responses[0]!.body.toString()).toBe("bye");
      expect(seen).toEqual(["/1"]);
    });

    it("from the client, in any case and in a list", async () => {
      const s = await start(async (_req, res) => res.setText("ok").send());
      const c = await s.connect();
      await c.write(get("/", "Connection: keep-alive, CLOSE\r\n"));
      await c.waitEnded();
      const [r] = parseResponses(c.received, { eof: true }).responses;
      expect(header(r!, "connection")?.toLowerCase()).toBe("close");
    });

    it("from the handler: the response says so, the connection closes, nothing behind it runs", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        return res.setHeader("Connection", "close").setText("closing").send();
      });
      const c = await s.connect();
      await c.write(get("/1") + get("/2"));
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses).toHaveLength(1);
      expect(headerAll(responses[0]!, "connection").map((v) => v.toLowerCase())).toEqual(["close"]);
      expect(seen).toEqual(["/1"]);
    });
  });

  describe("Expect: 100-continue", () => {
    const head = "POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

    it("writes 100 Continue only when the handler starts reading the body", async () => {
      const reading = gate();
      const s = await start(async (req, res) => {
        await reading.promise;
        const text = await req.text();
        return res.setText(`got ${text}`).send();
      });
      const c = await s.connect();
      await c.write(head);
      await sleep(100);
      expect(c.receivedBytes).toBe(0);
      reading.open();
      await c.waitForText("\r\n\r\n");
      expect(c.text).toBe("HTTP/1.1 100 Continue\r\n\r\n");
      await c.write("hello");
      const [cont, r] = await c.responses(2);
      expect(cont!.status).toBe(100);
      expect(r!.status).toBe(200);
      expect(r!.body.toString()).toBe("got hello");
      // The connection is still good.
      await c.write(get("/next"));
      const rs = await c.responses(3);
      expect(rs[2]!.status).toBe(200);
      c.destroy();
    });

    it("sends no 100 when the handler answers without reading; then closes or drains", async () => {
      const seen: string[] = [];
      const s = await start(async (req, res) => {
        seen.push(req.path);
        return res.setStatus(403).setText("no").send();
      });
      const c = await s.connect();
      await c.write(head);
      const [r] = await c.responses(1);
      expect(r!.status).toBe(403);
      expect(c.text).not.toContain("100 Continue");
      if (header(r!, "connection")?.toLowerCase() === "close") {
        await c.waitEnded();
        expect(parseResponses(c.received, { eof: true }).responses).toHaveLength(1);
      } else {
        // The server waits for the body and drains it: the next request is served.
        await c.write("hello" + get("/after"));
        const rs = await c.responses(2);
        expect(rs[1]!.status).toBe(403);
        expect(seen).toEqual(["/up", "/after"]);
      }
      expect(c.text).not.toContain("100 Continue");
    });

    it("sends no 100 to an HTTP/1.0 client (the expectation is ignored)", async () => {
      const s = await start(async (req, res) => res.setText(`got ${await req.text()}`).send());
      const c = await s.connect();
      await c.write("POST /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      await sleep(100);
      expect(c.receivedBytes).toBe(0);
      await c.write("hello");
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.status)).toEqual([200]);
      expect(responses[0]!.body.toString()).toBe("got hello");
    });

    it("a client that sends the body without waiting: at most one 100, before the final response", async () => {
      const s = await start(async (req, res) => res.setText(`got ${await req.text()}`).send());
      const c = await s.connect();
      await c.write(head + "hello" + get("/next"));
      await c.waitFor((b) => parseResponses(b).responses.filter((r) => r.status >= 200).length === 2, "two final responses");
      const { responses, rest } = parseResponses(c.received);
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((x) => x === 100).length).toBeLessThanOrEqual(1);
      expect(statuses.filter((x) => x !== 100)).toEqual([200, 200]);
      expect(statuses[statuses.length - 1]).toBe(200);
      if (statuses[0] === 100) expect(statuses[1]).toBe(200);
      expect(responses.find((r) => r.status === 200)!.body.toString()).toBe("got hello");
      expect(rest.length).toBe(0);
      c.destroy();
    });

    it.skipIf(noCurl)("with curl: the 100 arrives promptly, so curl doesn't wait out its expect timeout", async () => {
      const s = await start(async (req, res) => res.setText(`len=${(await req.bytes()).length}`).send());
      const out = await curl([
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "4",
        "--data-binary",
        "x".repeat(2000),
        "-w",
        "|%{time_total}",
        `${s.url}/upload`,
      ]);
      expect(out.stderr).toBe("");
      const [body, time] = out.stdout.split("|");
      expect(body).toBe("len=2000");
      expect(Number(time)).toBeLessThan(3);
    });
  });

  describe("HEAD", () => {
    it("sends only the head, with the would-be body's Content-Length", async () => {
      const s = await start(async (_req, res) => res.setText("hello world").send());
      const c = await s.connect();
      await c.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n` + get("/"));
      const [h, g] = await c.responses(2, { heads: [true, false] });
      expect(h!.status).toBe(200);
      expect(header(h!, "content-length")).toBe("11");
      expect(header(h!, "content-type")).toBe("text/plain; charset=utf-8");
      expect(h!.raw.length).toBe(h!.head.length);
      expect(g!.body.toString()).toBe("hello world");
      // The GET's response starts right after the HEAD's empty line.
      expect(c.received.subarray(h!.head.length, h!.head.length + 9).toString()).toBe("HTTP/1.1 ");
      expect(Buffer.concat([h!.raw, g!.raw]).equals(c.received)).toBe(true);
      c.destroy();
    });

    it("sends no body bytes for a streamed body, and doesn't run the body's generator", async () => {
      const started: string[] = [];
      async function* chunks(method: string): AsyncGenerator<Uint8Array> {
        started.push(method);
        yield Buffer.from("one");
        yield Buffer.from("two");
      }
      const s = await start(async (req, res) => res.setBody(chunks(req.method)).send());
      const c = await s.connect();
      await c.write(`HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n` + get("/after"));
      const [h, g] = await c.responses(2, { heads: [true, false] });
      expect(h!.status).toBe(200);
      expect(h!.raw.length).toBe(h!.head.length);
      expect(g!.body.toString()).toBe("onetwo");
      expect(Buffer.concat([h!.raw, g!.raw]).equals(c.received)).toBe(true);
      expect(started).toEqual(["GET"]);
      c.destroy();
    });

    it("closes a Node Readable body it won't send (HEAD)", async () => {
      const closed: string[] = [];
      const s = await start(async (req, res) => {
        const body = Readable.from([Buffer.from("one"), Buffer.from("two")]);
        body.once("close", () => closed.push(req.method));
        return res.setBody(body).send();
      });
      const c = await s.connect();
      await c.write(`HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n` + get("/after"));
      const [h, g] = await c.responses(2, { heads: [true, false] });
      expect(h!.raw.length).toBe(h!.head.length);
      expect(g!.body.toString()).toBe("onetwo");
      await until(() => closed.length === 2, "both bodies closed", 1_000).catch(() => undefined);
      expect(closed.sort()).toEqual(["GET", "HEAD"]);
      c.destroy();
    });

    it("cancels a ReadableStream body it won't send (HEAD)", async () => {
      let cancelled = false;
      const s = await start(async (_req, res) => {
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(new TextEncoder().encode("data"));
          },
          cancel() {
            cancelled = true;
          },
        });
        return res.setBody(body).send();
      });
      const c = await s.connect();
      await c.write(`HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n`);
      const [h] = await c.responses(1, { heads: [true] });
      expect(h!.raw.length).toBe(h!.head.length);
      await until(() => cancelled, "the ReadableStream to be cancelled", 1_000);
      c.destroy();
    });

    it("stream(): writes and trailers of a HEAD response send nothing after the head", async () => {
      const s = await start(async (_req, res) => {
        const body = res.stream();
        await body.write("ignored");
        return body.end({ "X-Trailer": "1" });
      });
      const c = await s.connect();
      await c.write(`HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n` + get("/after"));
      const [h, g] = await c.responses(2, { heads: [true, false] });
      expect(h!.raw.length).toBe(h!.head.length);
      expect(g!.body.toString()).toBe("ignored");
      expect(Buffer.concat([h!.raw, g!.raw]).equals(c.received)).toBe(true);
      c.destroy();
    });

    it.skipIf(noCurl)("works with curl -I", async () => {
      const s = await start(async (_req, res) => res.setText("x".repeat(1234)).send());
      const out = await curl(["-I", `${s.url}/`]);
      expect(out.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(out.stdout).toMatch(/\r\nContent-Length: 1234\r\n/i);
      expect(out.stdout.endsWith("\r\n\r\n")).toBe(true);
    });
  });

  describe("unread request bodies", () => {
    it("drains a Content-Length body the handler ignored, then serves the next request", async () => {
      const s = await start(async (req, res) => res.setText(req.path).send());
      const c = await s.connect();
      await c.write(`POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789` + get("/b"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.body.toString())).toEqual(["/a", "/b"]);
      c.destroy();
    });

    it("drains a chunked body (with trailers) the handler ignored", async () => {
      const s = await start(async (req, res) => res.setText(req.path).send());
      const c = await s.connect();
      await c.write(`POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n` + get("/b"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.body.toString())).toEqual(["/a", "/b"]);
      c.destroy();
    });

    it("drains a body that arrives after the response", async () => {
      const s = await start(async (req, res) => res.setText(req.path).send());
      const c = await s.connect();
      await c.write(`POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n`);
      await c.responses(1);
      await c.write("abc");
      await sleep(20);
      await c.write("def" + get("/b"));
      const rs = await c.responses(2);
      expect(rs.map((r) => r.body.toString())).toEqual(["/a", "/b"]);
      c.destroy();
    });

    it("closes the connection when the unread body is larger than maxDrainBytes", async () => {
      const seen: string[] = [];
      const s = await start(
        async (req, res) => {
          seen.push(req.path);
          return res.setText(req.path).send();
        },
        { maxDrainBytes: 16 },
      );
      const c = await s.connect();
      await c.write(`POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n${"z".repeat(100)}` + get("/b"));
      await c.waitEnded();
      const { responses } = parseResponses(c.received, { eof: true });
      expect(responses.map((r) => r.body.toString())).toEqual(["/a"]);
      // The server knew from Content-Length that it wouldn't drain this: it says so.
      expect(header(responses[0]!, "connection")).toBe("close");
      expect(seen).toEqual(["/a"]);
    });

    it("handles a partly read body: the rest is drained", async () => {
      const s = await start(async (req, res) => {
        const it = req.body[Symbol.asyncIterator]();
        const first = await it.next();
        return res.setText(`${req.path}:${first.done ? 0 : first.value.length > 0 ? "some" : 0}`).send();
      });
      const c = await s.connect();
      await c.write(`POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`);
      const [r1] = await c.responses(1);
      expect(r1!.body.toString()).toBe("/a:some");
      await c.write(`3\r\ndef\r\n0\r\n\r\n` + get("/b"));
      const rs = await c.responses(2);
      expect(rs[1]!.body.toString()).toBe("/b:0");
      c.destroy();
    });
  });

  it("gives the handler the client's address", async () => {
    let address: string | undefined = "unset";
    const s = await start(async (req, res) => {
      address = req.remoteAddress;
      return res.sendCode(204);
    });
    const c = await s.connect();
    await c.write(get("/"));
    await c.responses(1);
    c.destroy();
    expect(address).toBe(s.rawRemoteAddress);
  });

  it("answers a request from fetch", async () => {
    let written: ResponseWritten | undefined;
    const s = await start(async (_req, res) => (written = await res.setText("fetched").send()));
    const r = await fetchWithin(`${s.url}/f`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("fetched");
    expect(written?.outcome).toBe("complete");
  });
});
