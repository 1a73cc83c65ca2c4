// The access log over real connections: one line per response (the library's own error
// responses included), a function or pino-style sink, and the library's warnings to it too.
import { afterEach, describe, expect, it, vi } from "vitest";
import { accessLog, serve, type AccessLogEntry, type Handler, type Server, type ServeOptions } from "../host/index.js";
import { connectTcp, until } from "./support/server-harness.js";

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.restoreAllMocks();
});

async function start(handler: Handler, options: ServeOptions): Promise<Server> {
  server = await serve(handler, { port: 0, ...options });
  return server;
}

const LINE = /^GET \/items\?id=3 200 (\d+)B first=([\d.]+)ms last=([\d.]+)ms complete$/;

describe("accessLog", () => {
  it("one line per response through a function sink, with the bytes the client received", async () => {
    const lines: [string, AccessLogEntry][] = [];
    const s = await start(async (_req, res) => res.setText("hello").send(), accessLog({ sink: (line, entry) => lines.push([line, entry]) }));
    const client = await connectTcp(s.port);
    await client.write("GET /items?id=3 HTTP/1.1\r\nHost: t\r\n\r\n");
    await client.responses(1);
    await until(() => lines.length === 1, "the log line");
    const [line, entry] = lines[0]!;
    const m = LINE.exec(line);
    expect(m, line).not.toBeNull();
    expect(Number(m![1])).toBe(client.receivedBytes);
    expect(Number(m![2])).toBeLessThanOrEqual(Number(m![3]));
    expect(entry).toMatchObject({ method: "GET", target: "/items?id=3", status: 200, bytes: client.receivedBytes, outcome: "complete", remoteAddress: "127.0.0.1" });
    client.destroy();
  });

  it("logs the library's own error responses, with - for an unreadable head", async () => {
    const lines: string[] = [];
    const s = await start(async (_req, res) => res.sendCode(204), accessLog({ sink: (line) => lines.push(line) }));
    const client = await connectTcp(s.port);
    await client.write("GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n");
    await client.responses(1);
    await until(() => lines.length === 1, "the log line");
    expect(lines[0]).toMatch(/^- - 400 \d+B first=[\d.]+ms last=[\d.]+ms complete$/);
    client.destroy();
  });

  it("a client that leaves mid-response is logged as client-closed with the reason", async () => {
    const lines: string[] = [];
    let stop: (() => void) | undefined;
    const s = await start(
      async (_req, res) => {
        const body = res.stream();
        const big = new Uint8Array(64 * 1024);
        try {
          for (;;) await body.write(big);
        } catch {
          stop?.();
          return body.end();
        }
      },
      accessLog({ sink: (line) => lines.push(line) }),
    );
    const client = await connectTcp(s.port);
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    await client.write("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    await client.waitFor((b) => b.length > 100_000);
    client.destroy();
    await stopped;
    await until(() => lines.length === 1, "the log line");
    expect(lines[0]).toMatch(/^GET \/stream 200 \d+B first=[\d.]+ms last=[\d.]+ms client-closed: the client closed the connection/);
  });

  it("a pino-style sink gets fields and the line; the library's warnings go to it too", async () => {
    const calls: [string, object, string][] = [];
    const sink = {
      info: (fields: object, message: string) => calls.push(["info", fields, message]),
      warn: (fields: object, message: string) => calls.push(["warn", fields, message]),
      error: (fields: object, message: string) => calls.push(["error", fields, message]),
    };
    const s = await start(async (req, res) => {
      if (req.path === "/forgot") return undefined as never; // resolves without sending → 500 + warning
      if (req.path === "/throws") throw new Error("boom");
      return res.sendCode(204);
    }, accessLog({ sink }));
    expect((await fetch(`${s.url}/ok`)).status).toBe(204);
    expect((await fetch(`${s.url}/forgot`)).status).toBe(500);
    expect((await fetch(`${s.url}/throws`)).status).toBe(500);
    await until(() => calls.filter((c) => c[0] === "info").length === 3, "three log lines");
    const infos = calls.filter((c) => c[0] === "info");
    expect(infos[0]![1]).toMatchObject({ method: "GET", target: "/ok", status: 204, outcome: "complete" });
    expect(infos[0]![2]).toMatch(/^GET \/ok 204 \d+B /);
    const warn = calls.find((c) => c[0] === "warn")!;
    expect(warn[2]).toContain("resolved without sending a response");
    const error = calls.find((c) => c[0] === "error")!;
    expect(error[2]).toContain("failed; sent 500");
    expect((error[1] as { err: Error }).err.message).toBe("boom");
  });

  it("the default sink is console.info", async () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => undefined);
    const s = await start(async (_req, res) => res.setText("hi").send(), accessLog());
    await (await fetch(`${s.url}/x`)).text();
    await until(() => info.mock.calls.length === 1, "the console line");
    expect(info.mock.calls[0]![0]).toMatch(/^GET \/x 200 \d+B first=/);
  });

  it("refuses a sink that is neither a function nor a logger", () => {
    expect(() => accessLog({ sink: { info: () => undefined } as never })).toThrow(/sink must be a function or an object with info, warn and error/);
  });
});
