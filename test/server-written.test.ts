// ResponseWritten and onResponse, checked against the bytes a raw client really received,
// run through serve(), accept() over a Web Streams pair and accept() over an in-memory duplex.
import { afterEach, describe, expect, it } from "vitest";
import { Glitch, ResponseWritten, type Handler, type Request } from "../host/index.js";
import { MODES, parseResponses, sleep, startServer, until, type Mode, type RawResponse, type StartOptions, type TestServer } from "./support/server-harness.js";

const get = (path: string, extra = ""): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

interface Seen {
  req: Request | undefined;
  path: string | undefined;
  written: ResponseWritten;
}

function checkFacts(w: ResponseWritten, r: RawResponse): void {
  expect(w.outcome).toBe("complete");
  expect(w.error).toBeUndefined();
  expect(w.status).toBe(r.status);
  expect(w.headBytes).toBe(r.head.length);
  expect(w.bodyBytes).toBe(r.rawBody.length);
  expect(w.bytesWritten).toBe(r.raw.length);
  expect(w.headBytes + w.bodyBytes).toBe(w.bytesWritten);
  expect(w.firstByteMs).toBeGreaterThanOrEqual(0);
  expect(w.firstByteMs).toBeLessThanOrEqual(w.lastByteMs);
}

describe.each(MODES)("ResponseWritten via %s", (mode: Mode) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const seen: Seen[] = [];
  const start = async (handler: Handler, options?: StartOptions): Promise<TestServer> => {
    seen.length = 0;
    return (server = await startServer(mode, handler, {
      onResponse: (req, written) => seen.push({ req, path: req?.path, written }),
      ...options,
    }));
  };

  /** The handler for most tests: the path picks the response. */
  const handler: Handler = async (req, res) => {
    switch (req.path) {
      case "/text":
        return res.setText("hello").send();
      case "/empty":
        return res.send();
      case "/204":
        return res.sendCode(204);
      case "/big":
        return res.setBody(Buffer.alloc(200_000, 0x61)).send();
      case "/stream": {
        const body = res.stream();
        await body.write("one");
        await body.write("two");
        return body.end({ "X-T": "1" });
      }
      case "/iter":
        return res
          .setBody(
            (async function* () {
              yield Buffer.from("a");
              yield Buffer.from("bb");
            })(),
          )
          .send();
      case "/throw":
        throw new Error("boom");
      case "/http-error":
        throw new Glitch(409, "conflict");
      case "/forgot":
        return undefined as unknown as ResponseWritten;
      case "/read":
        return res.setText(String((await req.bytes()).length)).send();
      default:
        return res.sendCode(404);
    }
  };

  it("bytesWritten equals what the client received, for each kind of response", async () => {
    const s = await start(handler);
    for (const path of ["/text", "/empty", "/204", "/big", "/stream", "/iter", "/throw", "/http-error", "/forgot", "/nope"]) {
      const c = await s.connect();
      const before = seen.length;
      await c.write(get(path, "Connection: close\r\n"));
      await c.waitEnded();
      await until(() => seen.length > before, `onResponse for ${path}`);
      const w = seen[seen.length - 1]!.written;
      expect(c.receivedBytes, path).toBe(w.bytesWritten);
      const [r] = parseResponses(c.received, { eof: true }).responses;
      checkFacts(w, r!);
    }
  });

  it("HEAD: bodyBytes is 0 and headBytes is every byte sent", async () => {
    const s = await start(handler);
    const c = await s.connect();
    await c.write("HEAD /text HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    await c.waitEnded();
    await until(() => seen.length === 1);
    const w = seen[0]!.written;
    expect(w.bodyBytes).toBe(0);
    expect(w.headBytes).toBe(c.receivedBytes);
    expect(w.bytesWritten).toBe(c.receivedBytes);
  });

  it("pipelined responses: each ResponseWritten matches its own bytes on the wire", async () => {
    const s = await start(handler);
    const c = await s.connect();
    const paths = ["/text", "/stream", "/204", "/throw", "/iter", "/forgot", "/big", "/http-error", "/empty"];
    await c.write(paths.map((p) => get(p)).join(""));
    const rs = await c.responses(paths.length);
    await until(() => seen.length === paths.length, "every onResponse");
    // onResponse runs as each response's last byte is flushed: not necessarily in request
    // order (a streamed response settles a few microtask turns later than a fixed one).
    expect(seen.map((x) => x.path).sort()).toEqual([...paths].sort());
    paths.forEach((p, i) => checkFacts(seen.find((x) => x.path === p)!.written, rs[i]!));
    const total = seen.reduce((n, x) => n + x.written.bytesWritten, 0);
    expect(total).toBe(c.receivedBytes);
    c.destroy();
  });

  it("onResponse gets the very ResponseWritten that send() resolved to", async () => {
    const returned: ResponseWritten[] = [];
    const s = await start(async (_req, res) => {
      const w = await res.setText("x").send();
      returned.push(w);
      return w;
    });
    const c = await s.connect();
    await c.write(get("/a") + get("/b"));
    await c.responses(2);
    await until(() => seen.length === 2 && returned.length === 2);
    expect(seen[0]!.written).toBe(returned[0]);
    expect(seen[1]!.written).toBe(returned[1]);
    c.destroy();
  });

  it("onResponse is called for the library's own responses too (500, 413, core rejections)", async () => {
    const s = await start(handler, { maxBodyBytes: 4 });
    const c1 = await s.connect();
    await c1.write(get("/throw") + get("/forgot") + `POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789`);
    await c1.responses(3);
    await until(() => seen.length === 3);
    expect(seen.map((x) => [x.path, x.written.status])).toEqual([
      ["/throw", 500],
      ["/forgot", 500],
      ["/read", 413],
    ]);
    c1.destroy();

    const c2 = await s.connect();
    await c2.write("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    await c2.waitEnded();
    await until(() => seen.length === 4);
    const rejection = seen[3]!;
    expect(rejection.req).toBeUndefined();
    expect(rejection.written.status).toBe(400);
    expect(rejection.written.bytesWritten).toBe(c2.receivedBytes);
    checkFacts(rejection.written, parseResponses(c2.received, { eof: true }).responses[0]!);

    const c3 = await s.connect();
    await c3.write("GET / HTTP/3.0\r\nHost: t\r\n\r\n");
    await c3.waitEnded();
    await until(() => seen.length === 5);
    expect(seen[4]!.req).toBeUndefined();
    expect(seen[4]!.written.status).toBe(505);
    expect(seen[4]!.written.bytesWritten).toBe(c3.receivedBytes);
  });

  it("timing: firstByteMs reflects handler time, lastByteMs a slow stream, startedAt is wall-clock", async () => {
    const s = await start(async (req, res) => {
      await sleep(60);
      if (req.path === "/slow-stream") {
        const body = res.stream();
        await body.write("a");
        await sleep(60);
        await body.write("b");
        return body.end();
      }
      return res.setText("late").send();
    });
    const before = Date.now();
    const c = await s.connect();
    await c.write(get("/late") + get("/slow-stream"));
    await c.responses(2);
    const after = Date.now();
    await until(() => seen.length === 2);
    const [late, slow] = seen.map((x) => x.written) as [ResponseWritten, ResponseWritten];
    expect(late.firstByteMs).toBeGreaterThanOrEqual(50);
    expect(late.firstByteMs).toBeLessThanOrEqual(late.lastByteMs);
    expect(late.startedAt).toBeGreaterThanOrEqual(before - 5);
    expect(late.startedAt).toBeLessThanOrEqual(after + 5);
    expect(slow.lastByteMs - slow.firstByteMs).toBeGreaterThanOrEqual(50);
    expect(slow.startedAt).toBeGreaterThanOrEqual(late.startedAt);
    c.destroy();
  });

  it("100-continue: the interim response is not part of the final response's bytes, but the connection's", async () => {
    const s = await start(handler);
    const c = await s.connect();
    await c.write("POST /read HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    await c.waitForText("HTTP/1.1 100 Continue\r\n\r\n");
    await c.write("abc");
    const [cont, r] = await c.responses(2);
    expect(cont!.status).toBe(100);
    await until(() => seen.length === 1);
    checkFacts(seen[0]!.written, r!);
    expect(seen[0]!.written.bytesWritten + cont!.raw.length).toBe(c.receivedBytes);
    c.end();
    await c.waitEnded();
    if (s.summaries) {
      const summary = await s.summaries[0]!;
      expect(summary.bytesWritten).toBe(c.receivedBytes);
      expect(summary.requests).toBe(1);
    }
  });

  it("the connection summary (accept) counts every byte both ways", async () => {
    const s = await start(handler);
    if (!s.summaries) return; // serve() doesn't expose summaries
    const c = await s.connect();
    const sent = get("/text") + `POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello` + get("/stream");
    await c.write(sent);
    await c.responses(3);
    c.end();
    await c.waitEnded();
    const summary = await s.summaries[0]!;
    expect(summary.requests).toBe(3);
    expect(summary.bytesRead).toBe(Buffer.byteLength(sent));
    expect(summary.bytesWritten).toBe(c.receivedBytes);
    expect(summary.closedBy).toBe("client");
  });

  it("an onResponse that throws is logged and doesn't disturb the connection", async () => {
    const s = await start(handler, {
      onResponse: () => {
        throw new Error("observer failed");
      },
    });
    const c = await s.connect();
    await c.write(get("/text") + get("/stream"));
    const rs = await c.responses(2);
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
    await until(() => s.log.errors.length === 2, "two logged errors");
    expect(s.log.errors[0]!.message).toMatch(/onResponse/);
    await c.write(get("/text"));
    await c.responses(3);
    c.destroy();
  });

  it("handlers can't make a ResponseWritten", () => {
    const Ctor = ResponseWritten as unknown as new (token: symbol, facts: object) => ResponseWritten;
    expect(() => new Ctor(Symbol("ResponseWritten"), {})).toThrow(TypeError);
  });
});
