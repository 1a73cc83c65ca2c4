/**
 * `tophat/core/portable`: the protocol core's thin binding for any JavaScript runtime with
 * WebAssembly and TextEncoder — browsers and workers, other runtimes, and Node
 * too (the test suite runs it in Chromium and Node). It imports no `node:` module and uses
 * neither `Buffer` nor `process`; the core comes in as bytes or a compiled
 * `WebAssembly.Module`, however the host got it (`fetch`, a bundler's asset URL, a file).
 *
 * - {@link Core} runs `parseHead`, `decodeChunked`, `frameHead`, `frameMessage`,
 *   `chunkSizeLine` and `lastChunk`, with the WIT's types; byte outputs are `Uint8Array`s.
 *   `new Core(bytes)` compiles synchronously; `await Core.compile(bytes)` does not.
 * - {@link mayEndHead} is the host's half of linear incremental feeding.
 *
 * It gives the same outcomes as `tophat/core`, which is this binding plus, for Node, loading
 * the built core from a file (`Core.load()`), Buffer outputs and `RequestHeadView` (which
 * decodes through Buffer and stays Node-only).
 *
 * ```js
 * import { Core, DEFAULT_LIMITS } from "tophat/core/portable";
 * const core = await Core.compile(await (await fetch(coreWasmUrl)).arrayBuffer());
 * const outcome = core.parseHead(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS);
 * ```
 * @module tophat/core/portable
 */
export { Core, CoreTrapError, type CompiledCoreModule, type CoreSource } from "./core/portable.js";
export * from "./core/types.js";
export { mayEndHead } from "./core/head-end.js";
