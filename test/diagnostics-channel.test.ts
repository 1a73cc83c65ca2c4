// The node:diagnostics_channel events (tophat.server.*), seen by a subscriber while real
// clients (fetch, raw sockets) talk to a server over TCP.
import diagnostics from "node:diagnostics_channel";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  ClientClosedError,
  Glitch,
  serve,
  tophatChannels,
  type Handler,
  type RequestErrorMessage,
  type RequestStartMessage,
  type ResponseFinishMessage,
  type ResponseHeadMessage,
  type Server,
} from "../host/index.js";

type Event =
  | { name: "start"; message: RequestStartMessage }
  | { name: "head"; message: ResponseHeadMessage }
  | { name: "finish"; message: ResponseFinishMessage }
  | { name: "error"; message: RequestErrorMessage };

let server: Server | undefined;
const events: Event[] = [];
const listeners: [string, (message: unknown) => void][] = [
  [tophatChannels.requestStart, (message) => events.push({ name: "start", message: message as RequestStartMessage })],
  [tophatChannels.responseHead, (message) => events.push({ name: "head", message: message as ResponseHeadMessage })],
  [tophatChannels.responseFinish, (message) => events.push({ name: "finish", message: message as ResponseFinishMessage })],
  [tophatChannels.requestError, (message) => events.push({ name: "error", message: message as RequestErrorMessage })],
];

function subscribe(): void {
  events.length = 0;
  for (const [name, listener] of listeners) diagnostics.subscribe(name, listener);
}

afterEach(async () => {
  for (const [name, listener] of listeners) diagnostics.unsubscribe(name, listener);
  events.length = 0;
  await server?.close();
  server = undefined;
});

async function start(handler: Handler): Promise<string> {
  server = await serve(handler, { logger: { warn() {}, error() {} } });
  return server.url;
}

/** Waits until the finish events for `n` responses arrived (they follow the client's read by a turn or so). */
async function finishes(n: number): Promise<void> {
  for (let i = 0; i < 200 && events.filter((e) => e.name === "finish").length < n; i++) await new Promise((r) => setTimeout(r, 5));
}

describe("diagnostics_channel events", () => {
  it("uses node:http's names under a tophat. prefix", () => {
    expect(tophatChannels).toEqual({
      requestStart: "tophat.server.request.start",
      responseHead: "tophat.server.response.head",
      responseFinish: "tophat.server.response.finish",
      requestError: "tophat.server.request.error",
    });
  });

  it("publishes start, head and finish, in that order, for a request answered by its handler", async () => {
    const url = await start(async (req, res) => res.setStatus(201).setHeader("X-Id", "7").setText(`hi ${req.query.get("n")}`).send());
    subscribe();
    const res = await fetch(`${url}/things?n=3`);
    expect(await res.text()).toBe("hi 3");
    await finishes(1);
    expect(events.map((e) => e.name)).toEqual(["start", "head", "finish"]);
    const [startEvent, headEvent, finishEvent] = events as [Event & { name: "start" }, Event & { name: "head" }, Event & { name: "finish" }];
    expect(startEvent.message.request.path).toBe("/things");
    expect(headEvent.message.request).toBe(startEvent.message.request);
    expect(headEvent.message.response).toBe(startEvent.message.response);
    expect(headEvent.message.response.status).toBe(201);
    expect(headEvent.message.response.getHeader("x-id")).toBe("7");
    expect(finishEvent.message.request).toBe(startEvent.message.request);
    expect(finishEvent.message.written.status).toBe(201);
    expect(finishEvent.message.written.outcome).toBe("complete");
    expect(finishEvent.message.written.bodyBytes).toBe(4);
  });

  it("publishes the handler's error, then the library's 500 as head and finish", async () => {
    const boom = new Error("boom");
    const url = await start(async () => {
      throw boom;
    });
    subscribe();
    const res = await fetch(`${url}/fail`);
    expect(res.status).toBe(500);
    await res.text();
    await finishes(1);
    expect(events.map((e) => e.name)).toEqual(["start", "error", "head", "finish"]);
    const error = events[1] as Event & { name: "error" };
    expect(error.message.error).toBe(boom);
    expect(error.message.request.path).toBe("/fail");
    const finish = events[3] as Event & { name: "finish" };
    expect(finish.message.written.status).toBe(500);
    expect(finish.message.request).toBe(error.message.request);
  });

  it("publishes a thrown 4xx Glitch as an error too (subscribers tell it apart by its status)", async () => {
    const url = await start(async () => {
      throw Glitch.notFound("nope");
    });
    subscribe();
    const res = await fetch(`${url}/missing`);
    expect(res.status).toBe(404);
    await res.text();
    await finishes(1);
    const error = events.find((e) => e.name === "error") as Event & { name: "error" };
    expect(error.message.error).toBeInstanceOf(Glitch);
    expect((error.message.error as Glitch).status).toBe(404);
  });

  it("a head the core refuses: head and finish with no request, and no start", async () => {
    const url = new URL(await start(async (_req, res) => res.send()));
    subscribe();
    const socket = net.connect(Number(url.port), url.hostname);
    socket.write("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n");
    let reply = "";
    await new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => (reply += chunk.toString("latin1")));
      socket.on("close", () => resolve());
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    await finishes(1);
    expect(events.map((e) => e.name)).toEqual(["head", "finish"]);
    const finish = events[1] as Event & { name: "finish" };
    expect(finish.message.request).toBeUndefined();
    expect(finish.message.written.status).toBe(400);
  });

  it("a streamed response the client abandons finishes client-closed", async () => {
    const chunk = new Uint8Array(64 * 1024);
    const url = new URL(
      await start(async (_req, res) => {
        const out = res.stream();
        try {
          for (let i = 0; i < 10_000; i++) await out.write(chunk);
        } catch (error) {
          // The client left: end() reports it.
          if (!(error instanceof ClientClosedError)) throw error;
        }
        return out.end();
      }),
    );
    subscribe();
    const socket = net.connect(Number(url.port), url.hostname);
    socket.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    let received = 0;
    await new Promise<void>((resolve) =>
      socket.on("data", (data: Buffer) => {
        received += data.length;
        if (received > 256 * 1024) {
          socket.destroy();
          resolve();
        }
      }),
    );
    await finishes(1);
    const finish = events.find((e) => e.name === "finish") as Event & { name: "finish" };
    expect(finish.message.written.outcome).toBe("client-closed");
  });

  it("publishes nothing (and builds no message) when no one subscribes", async () => {
    const url = await start(async (_req, res) => res.setText("quiet").send());
    expect(diagnostics.channel(tophatChannels.requestStart).hasSubscribers).toBe(false);
    const res = await fetch(url);
    expect(await res.text()).toBe("quiet");
    expect(events).toHaveLength(0);
  });
});
