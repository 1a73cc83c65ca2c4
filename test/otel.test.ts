// otel(): one OpenTelemetry SERVER span per request, checked through the SDK's in-memory
// exporter while fetch (with a traceparent) and raw sockets talk to a server over TCP.
import net from "node:net";
import * as api from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Glitch, Router, compose, otel, serve, type Handler, type Server, type ServeOptions } from "../host/index.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer("otel-test");
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  api.propagation.disable();
  api.context.disable();
});

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  exporter.reset();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;

async function start(handler: Handler, options: ServeOptions = {}): Promise<string> {
  server = await serve(compose(otel({ api, tracer }))(handler), { logger: { warn() {}, error() {} }, ...options });
  return server.url;
}

/** The spans exported so far, once `n` of them are (a span ends just after the response is flushed). */
async function spans(n: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 400 && exporter.getFinishedSpans().length < n; i++) await new Promise((r) => setTimeout(r, 5));
  return exporter.getFinishedSpans();
}

function serverSpan(all: ReadableSpan[]): ReadableSpan {
  const found = all.filter((s) => s.kind === api.SpanKind.SERVER);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const users = new Router()
  .get("/users/:id", async (req, res) => {
    // A span the handler makes is a child of the server span: the handler runs in its context.
    tracer.startSpan("db.lookup").end();
    return res.setJson({ id: req.params.id }).send();
  })
  .post("/users", async (req, res) => res.setStatus(201).setJson(await req.json()).send())
  .get("/fail", async () => {
    throw new TypeError("the database is down");
  })
  .get("/busy", async () => {
    throw Glitch.serviceUnavailable("later");
  })
  .get("/never", () => new Promise(() => {}));
const app = new Router().mount("/api", users).get("/", async (_req, res) => res.setText("home").send());

describe("otel(): a server span per request", () => {
  it("the incoming trace is its parent; stable HTTP attributes; the route names it", async () => {
    const url = new URL(await start(app.route));
    const res = await fetch(`${url.origin}/api/users/42?fields=name&x=1`, { headers: { traceparent, "user-agent": "otel-test/1" } });
    expect(await res.json()).toEqual({ id: "42" });
    const all = await spans(2);
    const span = serverSpan(all);
    expect(span.name).toBe("GET /api/users/:id");
    expect(span.kind).toBe(api.SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.attributes).toEqual({
      "http.request.method": "GET",
      "url.path": "/api/users/42",
      "url.query": "fields=name&x=1",
      "url.scheme": "http",
      "server.address": "127.0.0.1",
      "server.port": Number(url.port),
      "client.address": "127.0.0.1",
      "network.peer.address": "127.0.0.1",
      "network.protocol.version": "1.1",
      "user_agent.original": "otel-test/1",
      "http.route": "/api/users/:id",
      "http.response.status_code": 200,
      "http.response.body.size": 11,
    });
    expect(span.status.code).toBe(api.SpanStatusCode.UNSET);
    // The handler's own span is the server span's child, in the same trace.
    const child = all.find((s) => s.name === "db.lookup")!;
    expect(child.spanContext().traceId).toBe(TRACE_ID);
    expect(child.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it("without a traceparent: a new trace, no parent", async () => {
    const url = await start(app.route);
    expect(await (await fetch(`${url}/`)).text()).toBe("home");
    const span = serverSpan(await spans(1));
    expect(span.name).toBe("GET /");
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span.attributes["url.query"]).toBeUndefined();
  });

  it("request and response body sizes", async () => {
    const url = await start(app.route);
    const body = JSON.stringify({ name: "ada" });
    const res = await fetch(`${url}/api/users`, { method: "POST", body, headers: { "content-type": "application/json", traceparent } });
    expect(res.status).toBe(201);
    await res.text();
    const span = serverSpan(await spans(1));
    expect(span.name).toBe("POST /api/users");
    expect(span.attributes["http.request.body.size"]).toBe(body.length);
    expect(span.attributes["http.response.body.size"]).toBe(body.length);
    expect(span.attributes["http.response.status_code"]).toBe(201);
  });

  it("a handler that throws: status ERROR, error.type the error's class, the exception recorded, 500", async () => {
    const url = await start(app.route);
    expect((await fetch(`${url}/api/fail`, { headers: { traceparent } })).status).toBe(500);
    const span = serverSpan(await spans(1));
    expect(span.name).toBe("GET /api/fail");
    expect(span.status).toEqual({ code: api.SpanStatusCode.ERROR, message: "the database is down" });
    expect(span.attributes["error.type"]).toBe("TypeError");
    expect(span.attributes["http.response.status_code"]).toBe(500);
    expect(span.events.map((e) => e.name)).toEqual(["exception"]);
  });

  it("a 5xx Glitch: status ERROR, error.type the status code", async () => {
    const url = await start(app.route);
    expect((await fetch(`${url}/api/busy`)).status).toBe(503);
    const span = serverSpan(await spans(1));
    expect(span.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(span.attributes["error.type"]).toBe("503");
    expect(span.attributes["http.response.status_code"]).toBe(503);
  });

  it("a 404 (no route) is no server error: status unset, no http.route, named after the method", async () => {
    const url = await start(app.route);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    const span = serverSpan(await spans(1));
    expect(span.name).toBe("GET");
    expect(span.status.code).toBe(api.SpanStatusCode.UNSET);
    expect(span.attributes["http.response.status_code"]).toBe(404);
    expect(span.attributes["http.route"]).toBeUndefined();
    expect(span.attributes["error.type"]).toBeUndefined();
  });

  it("a handler that never answers: the handler timeout's 503 ends the span", async () => {
    const url = await start(app.route, { handlerTimeoutMs: 200 });
    expect((await fetch(`${url}/api/never`)).status).toBe(503);
    const span = serverSpan(await spans(1));
    expect(span.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(span.attributes["error.type"]).toBe("HandlerTimeoutError");
    expect(span.attributes["http.response.status_code"]).toBe(503);
  });

  it("a client that leaves mid-response: outcome client-closed is an error", async () => {
    const chunk = new Uint8Array(64 * 1024);
    const url = new URL(
      await start(async (_req, res) => {
        const out = res.stream();
        for (let i = 0; i < 10_000; i++) {
          // Stop writing once the client is gone; end() reports what happened.
          if (!(await out.write(chunk).then(() => true, () => false))) break;
        }
        return out.end();
      }),
    );
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
    const span = serverSpan(await spans(1));
    expect(span.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(span.attributes["error.type"]).toBe("ClientClosedError");
    expect(span.attributes["http.response.status_code"]).toBe(200);
  });

  it("behind a trusted proxy: client, scheme and host are the forwarded ones; an unknown method is _OTHER", async () => {
    const url = new URL(await start(async (_req, res) => res.setText("ok").send(), { trustProxy: ["loopback"] }));
    const socket = net.connect(Number(url.port), url.hostname);
    socket.write("PURGE /cache HTTP/1.1\r\nHost: internal:8080\r\nForwarded: for=203.0.113.5;proto=https;host=\"api.example\"\r\nConnection: close\r\n\r\n");
    await new Promise<void>((resolve) => {
      socket.resume();
      socket.on("close", () => resolve());
    });
    const span = serverSpan(await spans(1));
    expect(span.name).toBe("HTTP");
    expect(span.attributes).toMatchObject({
      "http.request.method": "_OTHER",
      "http.request.method_original": "PURGE",
      "client.address": "203.0.113.5",
      "network.peer.address": "127.0.0.1",
      "url.scheme": "https",
      "server.address": "api.example",
    });
    expect(span.attributes["server.port"]).toBeUndefined();
  });

  it("ignore(): no span", async () => {
    server = await serve(otel({ api, tracer, ignore: (req) => req.path === "/health" })(async (_req, res) => res.setText("ok").send()));
    await (await fetch(`${server.url}/health`)).text();
    await (await fetch(`${server.url}/other`)).text();
    const all = await spans(1);
    expect(all.map((s) => s.attributes["url.path"])).toEqual(["/other"]);
  });
});
