/**
 * Tophat: an HTTP/1.1 server library for Node with a sandboxed WebAssembly protocol core.
 *
 * This release exposes the protocol core's binding; the server API (`accept`, `serve`)
 * builds on it.
 * @module
 */
export * from "./core/index.js";
