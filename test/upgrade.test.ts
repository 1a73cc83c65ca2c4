// Taking a connection over with res.upgrade() (RFC 9110 §7.8, §15.2.2), through serve(),
// accept() over a Web Streams pair and accept() over an in-memory duplex, with raw
// clients: the 101, the bytes sent with the handshake handed over, nothing parsed after,
// the refusals (no Upgrade, HTTP/1.0, unread body, an unoffered protocol, 101 through
// send()), a declined upgrade served normally on a connection that goes on, CONNECT's 501,
// and graceful close: the signal, then the grace deadline.
import { afterEach, describe, expect, it } from "vitest";
import { serve, UpgradeError, type Handler, type Upgraded, type ResponseWritten, type ServerClosed } from "../host/index.js";
import { MODES, connectTcp, header, parseResponses, sleep, startServer, type Mode, type TestServer } from "./support/server-harness.js";

const HANDSHAKE = "GET /up HTTP/1.1\r\nHost: t\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\n";

/** The "shout" protocol: every byte back, upper-cased, until the client ends. */
function shout(up: Upgraded): void {
  const upper = (bytes: Uint8Array): Buffer => Buffer.from(Buffer.from(bytes).toString("latin1").toUpperCase(), "latin1");
  if (up.kind === "duplex") {
    const socket = up.socket;
    if (up.head.length > 0) socket.write(upper(up.head));
    socket.on("data", (chunk: Buffer) => socket.write(upper(chunk)));
    socket.on("end", () => socket.end());
    socket.resume();
    return;
  }
  const writer = up.writable.getWriter();
  const reader = up.readable.getReader();
  void (async () => {
    if (up.head.length > 0) await writer.write(upper(up.head));
    for (let r = await reader.read(); !r.done; r = await reader.read()) await writer.write(upper(r.value));
    await writer.close();
  })();
}

describe.each(MODES)("res.upgrade() via %s", (mode: Mode) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (handler: Handler): Promise<TestServer> => (server = await startServer(mode, handler));

  it("writes the 101, hands over the bytes sent with the handshake, and parses nothing after", async () => {
    let written: ResponseWritten | undefined;
    const s = await start(async (_req, res) => {
      const up = await res.upgrade({ headers: { Upgrade: "shout" } });
      written = up.written;
      shout(up);
      return up.written;
    });
    const c = await s.connect();
    // The handshake and the first bytes of the new protocol in one write.
    await c.write(`${HANDSHAKE}hello `);
    await c.waitForText("HELLO ");
    const head = c.text.slice(0, c.text.indexOf("\r\n\r\n") + 4);
    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toContain("\r\nUpgrade: shout\r\n");
    expect(head).toContain("\r\nConnection: Upgrade\r\n");
    expect(head).not.toMatch(/content-length|transfer-encoding|date:/i);
    // What looks like HTTP is the new protocol's now: shouted back, not answered.
    await c.write("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    await c.waitForText("GET /X HTTP/1.1\r\nHOST: T\r\n\r\n");
    expect(c.text.slice(head.length)).toBe("HELLO GET /X HTTP/1.1\r\nHOST: T\r\n\r\n");
    expect(written).toMatchObject({ status: 101, headBytes: head.length, bodyBytes: 0, bytesWritten: head.length, outcome: "complete" });
    c.end();
    await c.waitEnded();
    if (s.summaries) {
      const summary = await s.summaries[0]!;
      expect(summary).toMatchObject({ requests: 1, closedBy: "upgrade", bytesWritten: head.length });
    }
    expect(s.log.entries).toEqual([]);
  });

  it("refuses to take over a request that didn't ask to upgrade, HTTP/1.0, an unread body, an unoffered protocol", async () => {
    const s = await start(async (req, res) => {
      try {
        const up = await res.upgrade({ headers: { Upgrade: req.query.get("to") ?? "shout" } });
        shout(up);
        return up.written;
      } catch (error) {
        if (!(error instanceof UpgradeError)) throw error;
        return res.setStatus(400).setText(error.message).send();
      }
    });
    const cases: [string, RegExp][] = [
      ["GET /up HTTP/1.1\r\nHost: t\r\n\r\n", /did not ask to upgrade/],
      ["GET /up HTTP/1.1\r\nHost: t\r\nUpgrade: shout\r\n\r\n", /did not ask to upgrade/],
      ["GET /up HTTP/1.0\r\nUpgrade: shout\r\nConnection: upgrade\r\n\r\n", /HTTP\/1\.0/],
      ["POST /up HTTP/1.1\r\nHost: t\r\nUpgrade: shout\r\nConnection: upgrade\r\nContent-Length: 3\r\n\r\nabc", /read the request body/],
      ["GET /up?to=h2c HTTP/1.1\r\nHost: t\r\nUpgrade: shout\r\nConnection: upgrade\r\n\r\n", /did not offer to upgrade to "h2c"/],
    ];
    for (const [request, message] of cases) {
      const c = await s.connect();
      await c.write(request);
      const r = (await c.responses(1))[0]!;
      expect(r.status, request).toBe(400);
      expect(r.body.toString(), request).toMatch(message);
      // The writer was left as it was: the 101's Upgrade header isn't on the 400.
      expect(header(r, "upgrade")).toBeUndefined();
      // A refusal leaves the connection serving HTTP (keep-alive, but for HTTP/1.0).
      if (!request.includes("HTTP/1.0")) {
        await c.write("GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
        expect((await c.responses(2))[1]!.status).toBe(400);
      }
      c.destroy();
    }
  });

  it("serves a declined upgrade as a normal request, and the connection goes on", async () => {
    const s = await start(async (req, res) => res.setText(`plain ${req.path} upgrade=${req.parsed.upgrade}`).send());
    const c = await s.connect();
    await c.write(`${HANDSHAKE}GET /next HTTP/1.1\r\nHost: t\r\n\r\n`);
    const [first, second] = await c.responses(2);
    expect(first!.status).toBe(200);
    expect(first!.body.toString()).toBe("plain /up upgrade=true");
    expect(header(first!, "upgrade")).toBeUndefined();
    expect(header(first!, "connection")).toBeUndefined();
    expect(second!.body.toString()).toBe("plain /next upgrade=false");
    expect(await c.stillOpenAfter(30)).toBe(true);
  });

  it("answers a 101 sent through send() with a 500, logging that res.upgrade() is the way", async () => {
    const s = await start(async (_req, res) => res.setStatus(101).setHeader("Upgrade", "shout").send());
    const r = parseResponses(await s.rawRequest(HANDSHAKE)).responses[0]!;
    expect(r.status).toBe(500);
    expect(s.log.errors).toHaveLength(1);
    expect(String(s.log.errors[0]!.rest[0])).toMatch(/res\.upgrade\(/);
  });

  it("answers CONNECT with 501 and closes, without calling the handler", async () => {
    let called = false;
    const s = await start(async (_req, res) => {
      called = true;
      return res.send();
    });
    const bytes = await s.rawRequest("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    const r = parseResponses(bytes).responses[0]!;
    expect(r.status).toBe(501);
    expect(header(r, "connection")).toBe("close");
    expect(called).toBe(false);
  });
});

describe("graceful close of taken-over connections (serve)", () => {
  it("aborts their signal; one that ends is counted, one that doesn't is destroyed at the deadline", async () => {
    const handler: Handler = async (req, res) => {
      const up = await res.upgrade({ headers: { Upgrade: "shout" } });
      if (up.kind !== "duplex") throw new Error("serve() hands over a duplex");
      const socket = up.socket;
      socket.resume();
      // /polite says goodbye when told the server is closing; /deaf ignores it.
      if (req.path === "/polite") up.signal.addEventListener("abort", () => socket.end("bye\n"));
      return up.written;
    };
    const server = await serve(handler, { port: 0 });
    const polite = await connectTcp(server.port);
    const deaf = await connectTcp(server.port);
    await polite.write(HANDSHAKE.replace("/up", "/polite"));
    await deaf.write(HANDSHAKE.replace("/up", "/deaf"));
    await polite.waitForText("\r\n\r\n");
    await deaf.waitForText("\r\n\r\n");
    const began = performance.now();
    const closing = server.close({ graceMs: 400 });
    await polite.waitForText("bye\n");
    polite.end();
    const report: ServerClosed = await closing;
    const took = performance.now() - began;
    expect(report).toEqual({ connections: 2, upgraded: 2, destroyed: 1, destroyedUpgraded: 1 });
    expect(took).toBeGreaterThanOrEqual(390);
    await deaf.waitEnded();
    expect(deaf.text).not.toContain("bye");
  });

  it("refuses a take-over that begins while the server is closing, with a 503", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const server = await serve(
      async (_req, res) => {
        entered();
        await held;
        const up = await res.upgrade({ headers: { Upgrade: "shout" } });
        return up.written;
      },
      { port: 0, logger: { warn() {}, error() {} } },
    );
    const c = await connectTcp(server.port);
    await c.write(HANDSHAKE);
    await inHandler;
    const closing = server.close({ graceMs: 2_000 });
    await sleep(10);
    release();
    await c.waitEnded();
    c.end();
    const r = parseResponses(c.received).responses[0]!;
    expect(r.status).toBe(503);
    expect(header(r, "connection")).toBe("close");
    expect(await closing).toMatchObject({ connections: 1, upgraded: 0, destroyed: 0 });
  });
});
