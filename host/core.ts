/**
 * `tophat/core`: the protocol core's thin binding, for hosts that drive the WebAssembly
 * core directly (parsers, proxies, tests) rather than through the server in the main entry (`serve`, `accept`).
 *
 * - {@link Core} loads the core module and exposes `parseHead`, `decodeChunked`,
 *   `frameHead`, `frameMessage`, `chunkSizeLine` and `lastChunk`, with the WIT's types.
 * - {@link RequestHeadView} reads a parsed head's spans lazily as strings.
 *
 * The server in the main entry uses this binding; an application serving HTTP never needs it.
 * Outside Node (browsers, workers, other runtimes), `tophat/core/portable` is the same binding
 * with no `node:` import and no Buffer: its `Core` takes the core as bytes or a compiled
 * module, and this entry's `Core` extends it with `load()` and Buffer outputs.
 * @module tophat/core
 */
export * from "./core/index.js";
export { RequestHeadView } from "./http/request-head.js";
