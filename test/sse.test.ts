// Server-sent events over real connections: the wire format byte for byte, heartbeats,
// headers, validation, backpressure, the client leaving, and the `eventsource` npm client
// resuming with Last-Event-ID.
import net from "node:net";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { ClientClosedError, formatEvent, serve, type Handler, type ResponseWritten, type Server, type SseSink } from "../host/index.js";
import { startEventServer, type EventServer } from "./support/sse-server.js";
import { connectTcp, header, until, type RawClient } from "./support/server-harness.js";

let server: Server | undefined;
let events: EventServer | undefined;
afterEach(async () => {
  await server?.close({ graceMs: 0 });
  await events?.close();
  server = events = undefined;
});

async function start(handler: Handler): Promise<Server> {
  server = await serve(handler, { port: 0 });
  return server;
}

describe("the event-stream format", () => {
  it("fields, multi-line data (CRLF, CR and LF), comments and retry, byte for byte; headers", async () => {
    const s = await start(async (_req, res) => {
      const sse = res.sse({ retryMs: 2500, heartbeatMs: 0 });
      await sse.send({ data: "plain" });
      await sse.send({ event: "update", id: "7", data: "one\r\ntwo\rthree\nfour", retry: 1000 });
      await sse.send({ data: "" });
      await sse.comment("note");
      await sse.comment();
      return sse.close();
    });
    const client = await connectTcp(s.port);
    await client.write("GET /ev HTTP/1.1\r\nHost: t\r\n\r\n");
    const [r] = await client.responses(1);
    client.destroy();
    expect(r!.status).toBe(200);
    expect(header(r!, "content-type")).toBe("text/event-stream; charset=utf-8");
    expect(header(r!, "cache-control")).toBe("no-cache");
    expect(r!.framing).toBe("chunked");
    expect(r!.body.toString()).toBe(
      "retry: 2500\n\n" +
        "data: plain\n\n" +
        "event: update\nid: 7\nretry: 1000\ndata: one\ndata: two\ndata: three\ndata: four\n\n" +
        "data: \n\n" +
        ": note\n\n" +
        ":\n\n",
    );
  });

  it("the head goes out before the first event (the browser's open fires)", async () => {
    let release: (() => void) | undefined;
    const s = await start(async (_req, res) => {
      const sse = res.sse({ heartbeatMs: 0 });
      await new Promise<void>((resolve) => (release = resolve));
      return sse.close();
    });
    const client = await connectTcp(s.port);
    await client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await client.waitForText("text/event-stream");
    release!();
    client.destroy();
  });

  it("heartbeat comments while idle, none while events flow", async () => {
    const s = await start(async (_req, res) => {
      const sse = res.sse({ heartbeatMs: 60 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 5; i++) {
        await sse.send({ data: String(i) });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return sse.close();
    });
    const client = await connectTcp(s.port);
    await client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    const [r] = await client.responses(1, {}, 5_000);
    client.destroy();
    const body = r!.body.toString();
    const beforeEvents = body.slice(0, body.indexOf("data: 0"));
    expect(beforeEvents.match(/: heartbeat\n\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(body.slice(body.indexOf("data: 0"))).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
  });

  it.each([
    [{ event: "a\nb", data: "x" }, /event can't contain CR or LF/],
    [{ id: "1\r", data: "x" }, /id can't contain CR, LF or NUL/],
    [{ id: "1\0", data: "x" }, /id can't contain CR, LF or NUL/],
    [{ data: "x", retry: -5 }, /retry must be a whole number/],
    [{ data: 42 as unknown as string }, /data must be a string/],
  ])("refuses %j", (event, message) => {
    expect(() => formatEvent(event)).toThrow(message);
  });
});

describe("the client leaving, and backpressure", () => {
  /** A stream that says hello, then waits for the client to stop listening; returns the client. */
  async function helloUntilClosed(heartbeatMs: number): Promise<{ client: RawClient; sink: () => SseSink | undefined; written: () => ResponseWritten | undefined }> {
    let written: ResponseWritten | undefined;
    let sink: SseSink | undefined;
    const s = await start(async (_req, res) => {
      sink = res.sse({ heartbeatMs });
      await sink.send({ data: "hello" });
      await sink.closed;
      written = await sink.close();
      return written;
    });
    const client = await connectTcp(s.port);
    await client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await client.waitForText("data: hello");
    return { client, sink: () => sink, written: () => written };
  }

  it("closed resolves and signal aborts when the client resets the connection; the ResponseWritten says client-closed", async () => {
    const { client, sink, written } = await helloUntilClosed(30);
    // A reset: the connection is gone (a FIN alone is a half-close, the next test).
    (client.stream as net.Socket).resetAndDestroy();
    await until(() => written() !== undefined, "the handler to see the client leave", 5_000);
    expect(sink()!.signal.aborted).toBe(true);
    expect(written()!.outcome).toBe("client-closed");
    await expect(sink()!.send({ data: "late" })).rejects.toThrow();
  });

  it("a client that finishes its side (half-close) has stopped listening: closed resolves at once, without a write", async () => {
    const { client, written } = await helloUntilClosed(0);
    client.end();
    // The stream ends properly (the last chunk), and the client still gets it.
    const [r] = await client.responses(1, {}, 2_000);
    expect(r!.body.toString()).toBe("data: hello\n\n");
    expect(written()!.outcome).toBe("complete");
    await client.waitEnded();
  });

  it("sends stop resolving while the client doesn't read, and reject with ClientClosedError once it's gone", async () => {
    let sent = 0;
    let failure: unknown;
    const s = await start(async (_req, res) => {
      const sse = res.sse({ heartbeatMs: 0 });
      const data = "x".repeat(16 * 1024);
      try {
        for (;;) {
          await sse.send({ data });
          sent++;
        }
      } catch (error) {
        failure = error;
      }
      return sse.close();
    });
    const client = await connectTcp(s.port);
    client.pauseReading();
    await client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stalledAt = sent;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Bounded: socket buffers only (a few MB on loopback), not an ever-growing queue.
    expect(sent).toBe(stalledAt);
    expect(sent * 16 * 1024).toBeLessThan(64 * 1024 * 1024);
    client.destroy();
    await until(() => failure !== undefined, "the stalled send to fail", 5_000);
    expect(failure).toBeInstanceOf(ClientClosedError);
  });
});

describe("the eventsource npm client", () => {
  it("receives typed events with ids and multi-line data, and resumes with Last-Event-ID after each stream ends", async () => {
    events = await startEventServer();
    const received: { id: string; data: string }[] = [];
    const source = new EventSource(`${events.server.url}/count?to=7`);
    source.addEventListener("tick", (e) => received.push({ id: e.lastEventId, data: e.data }));
    await until(() => received.length === 7, "seven events", 10_000);
    source.close();
    expect(received.map((e) => e.id)).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
    expect(received[3]!.data).toBe("tick 4\nof 7");
    // Three connections: the first without Last-Event-ID, then resuming after 3 and 6.
    expect(events.lastIds.slice(0, 3)).toEqual(["", "3", "6"]);
  });
});
