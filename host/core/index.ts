/**
 * The core binding layer: typed access to the WebAssembly protocol core.
 * @module
 */
export { Core, CoreTrapError, defaultCorePath, type CompiledCoreModule, type CoreSource } from "./binding.js";
export * from "./types.js";
export { mayEndHead } from "./head-end.js";
