/**
 * `tophat/core`: the protocol core's thin binding, for hosts that drive the WebAssembly
 * core directly (parsers, proxies, tests) rather than through the server in the main entry (`serve`, `accept`).
 *
 * - {@link Core} loads the core module and exposes `parseHead`, `decodeChunked`,
 *   `frameHead`, `frameMessage`, `chunkSizeLine` and `lastChunk`, with the WIT's types.
 * - {@link RequestHeadView} reads a parsed head's spans lazily as strings.
 *
 * The server in the main entry uses this binding; an application serving HTTP never needs it.
 * @module tophat/core
 */
export * from "./core/index.js";
export { RequestHeadView } from "./http/request-head.js";
