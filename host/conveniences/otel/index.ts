/**
 * OpenTelemetry tracing for Tophat's requests, over the application's own `@opentelemetry/api`.
 * @module
 */
export { otel, type OtelOptions } from "./otel.js";
export type { OtelApi, OtelAttributeValue, OtelContext, OtelGetter, OtelSpan, OtelTracer } from "./api.js";
