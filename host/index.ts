/**
 * Tophat: an HTTP/1.1 server library for Node with a sandboxed WebAssembly protocol core.
 *
 * - {@link serve} starts a server; {@link accept} serves one connection over any byte stream.
 * - A {@link Handler} answers through a {@link ResponseWriter} and returns the
 *   {@link ResponseWritten} that `res.send()` resolved to.
 * - The protocol core's binding is a separate entry, `tophat/core`.
 * @module tophat
 */
export * from "./server/serve.js";
export * from "./server/cluster.js";
export * from "./connection/index.js";
export * from "./http/index.js";
export * from "./conveniences/access-log/index.js";
export * from "./conveniences/logger/index.js";
export * from "./conveniences/router/index.js";
export * from "./conveniences/cors/index.js";
export * from "./conveniences/identity/index.js";
export * from "./conveniences/static/index.js";
export * from "./conveniences/websocket/index.js";
export * from "./conveniences/compress/index.js";
export * from "./conveniences/otel/index.js";
