// OpenTelemetry: one SERVER span per request, its parent the caller's trace (traceparent),
// and the handler's own spans as its children. `node examples/otel.js`, then:
//   curl -s http://127.0.0.1:8080/users/42
//   curl -s -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' http://127.0.0.1:8080/users/7
//   curl -s http://127.0.0.1:8080/fail
// Each finished span is printed as one JSON line (`span {…}`). In an app, swap the printing
// exporter for an OTLP one (@opentelemetry/exporter-trace-otlp-http) and a batch processor.
// Packages (an app installs them itself; here they are dev dependencies):
//   npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/core @opentelemetry/context-async-hooks
import * as api from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Router, compose, otel, serve } from "tophat";

/** An exporter that prints each span as a JSON line (what an OTLP exporter would send). */
const printing = {
  export(spans, done) {
    for (const s of spans) {
      const line = {
        name: s.name,
        kind: api.SpanKind[s.kind],
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId,
        status: api.SpanStatusCode[s.status.code],
        attributes: s.attributes,
      };
      console.log(`span ${JSON.stringify(line)}`);
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
};

// The SDK's three registrations: tracer provider, propagator (W3C Trace Context: reads
// traceparent), context manager (AsyncLocalStorage: the active span follows the handler's awaits).
api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printing)] }));
api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const tracer = api.trace.getTracer("otel-example");
const users = new Map([["42", { id: "42", name: "ada" }], ["7", { id: "7", name: "grace" }]]);

const app = new Router()
  .get("/users/:id", async (req, res) => {
    // A child span of the request's server span (the context manager carries it here).
    const user = await tracer.startActiveSpan("users.lookup", async (span) => {
      span.setAttribute("user.id", req.params.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
      span.end();
      return users.get(req.params.id);
    });
    if (!user) return res.setStatus(404).setJson({ error: "no such user" }).send();
    return res.setJson(user).send();
  })
  .get("/fail", async () => {
    throw new Error("the database is down");
  });

const server = await serve(compose(otel({ api }))(app.route), { port: Number(process.env.PORT ?? 8080) });
console.log(`otel example on ${server.url}/`);
process.once("SIGINT", () => void server.close({ graceMs: 5_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 5_000 }));
