/**
 * The part of `@opentelemetry/api` that {@link otel} uses, declared structurally: the
 * application passes its own `@opentelemetry/api` module in, so Tophat neither imports
 * nor pins it (the API must be one copy per process: a second copy would have its own,
 * empty, global tracer provider).
 * @module
 */

/** An OpenTelemetry `Context` (immutable; opaque to {@link otel}, which only passes it on). */
export interface OtelContext {
  /** The value under `key`. */
  getValue(key: symbol): unknown;
  /** A new context with `key` set. */
  setValue(key: symbol, value: unknown): OtelContext;
  /** A new context without `key`. */
  deleteValue(key: symbol): OtelContext;
}

/** An attribute value (`AttributeValue`). */
export type OtelAttributeValue = string | number | boolean;

/** The calls {@link otel} makes on a `Span`. */
export interface OtelSpan {
  /** Sets one attribute. */
  setAttribute(key: string, value: OtelAttributeValue): unknown;
  /** Sets the span's status (`SpanStatusCode.ERROR` with a message, here). */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Records an exception as a span event. */
  recordException(exception: Error): void;
  /** Renames the span (once the route is known). */
  updateName(name: string): unknown;
  /** Ends the span. */
  end(): void;
}

/** The calls {@link otel} makes on a `Tracer`. */
export interface OtelTracer {
  /** Starts a span, a child of `context`'s span if it has one. */
  startSpan(name: string, options: { kind: number; attributes: Record<string, OtelAttributeValue> }, context: OtelContext): OtelSpan;
}

/** How a propagator reads a carrier (`TextMapGetter`). */
export interface OtelGetter<C> {
  /** The carrier's keys. */
  keys(carrier: C): string[];
  /** A key's value(s). */
  get(carrier: C, key: string): string | string[] | undefined;
}

/**
 * The `@opentelemetry/api` module, or any object with the same members: pass
 * `import * as api from "@opentelemetry/api"`.
 */
export interface OtelApi {
  /** `trace`: tracers and the span in a context. */
  readonly trace: {
    /** The tracer named `name` from the registered tracer provider. */
    getTracer(name: string, version?: string): OtelTracer;
    /** A context whose active span is `span`. */
    setSpan(context: OtelContext, span: OtelSpan): OtelContext;
  };
  /** `context`: the active context, and running code inside another. */
  readonly context: {
    /** The active context (the root one without a context manager). */
    active(): OtelContext;
    /** Runs `fn` with `context` active (across its awaits, with an AsyncLocalStorage context manager). */
    with<T>(context: OtelContext, fn: () => T): T;
  };
  /** `propagation`: the global propagator (W3C Trace Context, once an SDK registers it). */
  readonly propagation: {
    /** `context` with what the carrier's fields say (the remote parent span from `traceparent`). */
    extract<C>(context: OtelContext, carrier: C, getter: OtelGetter<C>): OtelContext;
  };
  /** The `SpanKind` enum (SERVER is used). */
  readonly SpanKind: {
    /** A span for a request a server handles. */
    readonly SERVER: number;
  };
  /** The `SpanStatusCode` enum (ERROR is used). */
  readonly SpanStatusCode: {
    /** The operation failed. */
    readonly ERROR: number;
  };
}
