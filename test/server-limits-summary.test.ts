// ConnectionSummary from accept(): requests, bytesRead, bytesWritten and who closed.
import { describe, expect, it } from "vitest";
import { accept, type ResponseWritten } from "../host/index.js";
import { acceptServers, RawClient, sleep, within } from "./support/limits-client.js";

const start = acceptServers();

const quiet = { warn: () => undefined, error: () => undefined };

describe("ConnectionSummary", () => {
  it("counts requests and bytes exactly; a client that closes after its requests: closedBy client", async () => {
    const written: ResponseWritten[] = [];
    const s = await start((req, res) => res.setText(`hello ${req.path}`).send(), { onResponse: (_r, w) => written.push(w) });
    const c = await RawClient.connect(s.port);
    const requests = ["GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /22 HTTP/1.1\r\nHost: a\r\n\r\n", "POST /333 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"];
    for (const r of requests) {
      await c.write(r);
      expect((await c.response()).status).toBe(200);
    }
    c.socket.end();
    const summary = await s.summary(0);
    expect(summary.requests).toBe(3);
    expect(summary.bytesRead).toBe(requests.join("").length);
    expect(summary.bytesWritten).toBe(c.received.length);
    expect(summary.bytesWritten).toBe(written.reduce((n, w) => n + w.bytesWritten, 0));
    expect(summary.closedBy).toBe("client");
    expect(summary.error).toBeUndefined();
  });

  it("Connection: close from the client: closedBy server (the server ends after answering)", async () => {
    const s = await start((_req, res) => res.setText("bye").send());
    const c = await RawClient.connect(s.port, { allowHalfOpen: true });
    await c.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect((await c.response()).headers.connection).toBe("close");
    await c.closed();
    c.socket.end();
    const summary = await s.summary(0);
    expect(summary.requests).toBe(1);
    expect(summary.closedBy).toBe("server");
  });

  it("a malformed request: 400, closedBy server, no request counted", async () => {
    const s = await start((_req, res) => res.setText("x").send());
    const c = await RawClient.connect(s.port);
    await c.write("NOT HTTP AT ALL\r\n\r\n");
    expect((await c.response()).status).toBe(400);
    await c.closed();
    const summary = await s.summary(0);
    expect(summary.requests).toBe(0);
    expect(summary.closedBy).toBe("server");
    expect(summary.bytesWritten).toBe(c.received.length);
  });

  it("idle past keepAliveTimeoutMs: closedBy timeout", async () => {
    const s = await start((_req, res) => res.setText("x").send(), { keepAliveTimeoutMs: 100 });
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.response();
    await c.closed();
    expect((await s.summary(0)).closedBy).toBe("timeout");
  });

  it("a client reset mid-request: the summary resolves (accept() never rejects) with closedBy client or error", async () => {
    const s = await start(async (req, res) => res.setText(`${(await req.bytes()).length}`).send(), { logger: quiet });
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    await sleep(50);
    c.socket.resetAndDestroy();
    const summary = await s.summary(0);
    expect(summary.requests).toBe(1);
    expect(summary.bytesRead).toBe(c.socket.bytesWritten);
    expect(["client", "error"]).toContain(summary.closedBy);
    if (summary.closedBy === "error") expect(summary.error).toBeInstanceOf(Error);
  });

  it("a client reset mid-upload isn't logged as a handler failure that \"sent 500\" (nothing was sent)", async () => {
    const logs: string[] = [];
    const logger = { warn: (m: string) => void logs.push(`warn: ${m}`), error: (m: string) => void logs.push(`error: ${m}`) };
    const s = await start(async (req, res) => res.setText(`${(await req.bytes()).length}`).send(), { logger });
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    await sleep(50);
    c.socket.resetAndDestroy();
    const summary = await s.summary(0);
    expect(summary.bytesWritten).toBe(0);
    // A client going away is normal traffic: at most a warning, and never a claim that a 500 went out.
    expect(logs.filter((l) => l.startsWith("error:"))).toEqual([]);
    expect(logs.filter((l) => l.includes("sent 500"))).toEqual([]);
  });

  it("the server cuts a connection whose handler failed mid-stream: closedBy is not client", async () => {
    const s = await start(
      async (_req, res) => {
        const body = res.stream();
        await body.write("partial");
        throw new Error("handler failed mid-stream");
      },
      { logger: quiet },
    );
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.closed();
    const summary = await s.summary(0);
    // The client did nothing wrong and didn't close: the server did.
    expect(["server", "error"]).toContain(summary.closedBy);
  });

  it("the server cuts a connection whose handler resolved before ending its stream: closedBy is not client", async () => {
    const s = await start(
      async (_req, res) => {
        const body = res.stream();
        await body.write("partial");
        // Returns something that isn't its (not yet existing) ResponseWritten.
        return undefined as unknown as ResponseWritten;
      },
      { logger: quiet },
    );
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.closed();
    const summary = await s.summary(0);
    expect(["server", "error"]).toContain(summary.closedBy);
  });

  it("over a Web Streams pair: the same counts", async () => {
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    const fromServer = new TransformStream<Uint8Array, Uint8Array>();
    const done = accept({ readable: toServer.readable, writable: fromServer.writable }, (req, res) => res.setText(`web ${req.path}`).send());
    const writer = toServer.writable.getWriter();
    const request = "GET /w HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    await writer.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const reader = fromServer.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.endsWith("web /w")).toBe(true);
    await writer.close().catch(() => undefined);
    const summary = await within(done, 3000, "the web-streams connection to end");
    expect(summary.requests).toBe(1);
    expect(summary.bytesRead).toBe(request.length);
    expect(summary.bytesWritten).toBe(Buffer.concat(chunks).length);
    expect(summary.closedBy).toBe("server");
  });
});
