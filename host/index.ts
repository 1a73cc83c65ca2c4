/**
 * Tophat: an HTTP/1.1 server library for Node with a sandboxed WebAssembly protocol core.
 *
 * This release exposes the protocol core's binding and the request-head views built on
 * it; the server API (`accept`, `serve`) builds on them.
 * @module
 */
export * from "./core/index.js";
export * from "./http/index.js";
