// A client that goes away is not a server error: mid-upload, mid-response and before the
// handler answers, over real sockets. No 500 is sent or reported, nothing is logged at
// warn or error level, ResponseWritten.outcome is `client-closed` (reported once), and the
// access log says so at info.
import { afterEach, describe, expect, it } from "vitest";
import { accessLog, type Handler, type ResponseWritten, type StructuredLogger } from "../host/index.js";
import net from "node:net";
import { connectTcp, sleep, startServer, until, type TestServer } from "./support/server-harness.js";

/** A TCP client that can leave the way a client that goes away does: with a reset. */
async function resettable(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => undefined);
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

interface Call {
  level: "debug" | "info" | "warn" | "error";
  fields: Record<string, unknown>;
  message: string;
}

/** A pino-shaped sink that records every call with its level. */
function recordingSink(): StructuredLogger & { calls: Call[] } {
  const calls: Call[] = [];
  const at =
    (level: Call["level"]) =>
    (fields: object, message: string): void =>
      void calls.push({ level, fields: fields as Record<string, unknown>, message });
  return { calls, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

describe("a client that goes away is not a server error", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = async (handler: Handler): Promise<{ s: TestServer; sink: ReturnType<typeof recordingSink>; reports: ResponseWritten[] }> => {
    const sink = recordingSink();
    const log = accessLog({ sink });
    const reports: ResponseWritten[] = [];
    server = await startServer("serve", handler, {
      ...log,
      onResponse: (req, written) => {
        reports.push(written);
        log.onResponse(req, written);
      },
    });
    return { s: server, sink, reports };
  };

  /** The access log's line for the one response, at info, and nothing at warn or error. */
  const expectQuiet = (sink: ReturnType<typeof recordingSink>, reports: ResponseWritten[]): void => {
    expect(reports.map((w) => w.outcome)).toEqual(["client-closed"]);
    expect(reports[0]!.status).not.toBe(500);
    const serious = sink.calls.filter((c) => c.level === "warn" || c.level === "error");
    expect(serious, JSON.stringify(serious)).toEqual([]);
    const lines = sink.calls.filter((c) => c.level === "info");
    expect(lines.length).toBe(1);
    expect(lines[0]!.fields["outcome"]).toBe("client-closed");
    expect(lines[0]!.message).toMatch(/ client-closed: the client closed the connection/);
  };

  it("mid-upload: the handler's body read fails with ClientClosedError; it rethrows; no 500, client-closed at info", async () => {
    let failed: unknown;
    const { s, sink, reports } = await start(async (req, res) => {
      try {
        await req.bytes();
      } catch (error) {
        failed = error;
        throw error;
      }
      return res.setText("got it").send();
    });
    const c = await resettable(s.port);
    c.write(`POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n${"x".repeat(1000)}`);
    await sleep(50);
    c.resetAndDestroy();
    await until(() => reports.length === 1 && failed !== undefined, "the report");
    await sleep(50);
    expect((failed as Error).name).toBe("ClientClosedError");
    expectQuiet(sink, reports);
    expect(reports[0]!.headBytes).toBe(0);
    expect(reports[0]!.bytesWritten).toBe(0);
  });

  it("mid-upload, reading req.body as a stream: the same", async () => {
    const { s, sink, reports } = await start(async (req, res) => {
      let n = 0;
      for await (const chunk of req.body) n += chunk.length;
      return res.setText(`${n}`).send();
    });
    const c = await resettable(s.port);
    c.write(`POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${"x".repeat(1024)}\r\n`);
    await sleep(50);
    c.resetAndDestroy();
    await until(() => reports.length === 1, "the report");
    await sleep(50);
    expectQuiet(sink, reports);
  });

  it("mid-response: a streamed body whose writes fail; the handler rethrows; client-closed at info", async () => {
    const { s, sink, reports } = await start(async (_req, res) => {
      const body = res.stream();
      const big = new Uint8Array(64 * 1024);
      for (;;) await body.write(big);
    });
    const c = await connectTcp(s.port);
    await c.write("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    await c.waitFor((b) => b.length > 100_000);
    c.destroy();
    await until(() => reports.length === 1, "the report");
    await sleep(50);
    expectQuiet(sink, reports);
    expect(reports[0]!.status).toBe(200);
    expect(reports[0]!.bytesWritten).toBeGreaterThan(100_000);
  });

  it("mid-response through send(): send() resolves with the client-closed report", async () => {
    let resolved: ResponseWritten | undefined;
    const { s, sink, reports } = await start(async (_req, res) => {
      async function* forever(): AsyncGenerator<Uint8Array> {
        for (;;) yield new Uint8Array(64 * 1024);
      }
      resolved = await res.setBody(forever()).send();
      return resolved;
    });
    const c = await connectTcp(s.port);
    await c.write("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    await c.waitFor((b) => b.length > 100_000);
    c.destroy();
    await until(() => reports.length === 1 && resolved !== undefined, "the report");
    await sleep(50);
    expectQuiet(sink, reports);
    expect(resolved).toBe(reports[0]);
  });

  it("before the handler answers: reported client-closed with nothing written (status 499); the handler's late send() rejects; nothing at error", async () => {
    let late: unknown;
    const { s, sink, reports } = await start(async (req, res) => {
      await new Promise((resolve) => req.signal.addEventListener("abort", resolve));
      await sleep(20);
      try {
        return await res.setText("too late").send();
      } catch (error) {
        late = error;
        throw error;
      }
    });
    const c = await resettable(s.port);
    c.write("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    await sleep(50);
    c.resetAndDestroy();
    await until(() => reports.length === 1 && late !== undefined, "the report and the late send");
    await sleep(50);
    expectQuiet(sink, reports);
    expect(reports[0]!.status).toBe(499);
    expect(reports[0]!.headBytes + reports[0]!.bodyBytes + reports[0]!.bytesWritten).toBe(0);
    expect((late as Error).name).toBe("ClientClosedError");
    // The library's own note that the client left is at debug, not above.
    expect(sink.calls.some((call) => call.level === "debug" && /client closed the connection/.test(call.message))).toBe(true);
  });
});
