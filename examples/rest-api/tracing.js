// Traces for the REST API example (TRACES=1): an OpenTelemetry SERVER span per request
// through otel(), parented on the caller's traceparent, each finished span printed as a
// JSON line (`span {…}`). A real deployment would register an OTLP exporter with a batch
// processor instead of the printing one; the rest stays the same.
import * as api from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { otel } from "tophat";

/** Prints each span as one JSON line on stdout. */
const printing = {
  export(spans, done) {
    for (const s of spans) {
      const { traceId, spanId } = s.spanContext();
      const line = { name: s.name, kind: api.SpanKind[s.kind], traceId, spanId, parentSpanId: s.parentSpanContext?.spanId, status: api.SpanStatusCode[s.status.code], attributes: s.attributes };
      console.log(`span ${JSON.stringify(line)}`);
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
};

/** Registers the SDK and wraps `handler` in otel(). */
export function traced(handler) {
  api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printing)] }));
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return otel({ api })(handler);
}
