/**
 * The thin binding for Node: the portable one (`portable.ts`) plus loading the core from a
 * file, and Buffers for its byte outputs, which come from Node's pool when small (a typed
 * array of its own would cost an off-heap allocation each time) and which the host writes
 * to sockets and decodes as latin1.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Core as PortableCore } from "./portable.js";

export { CoreTrapError, type CompiledCoreModule, type CoreSource } from "./portable.js";

/** Where the built core module is: beside the compiled host in `dist/`, or in `dist/` from the sources. */
export function defaultCorePath(): string {
  const candidates = ["../../tophat-http.core.wasm", "../../dist/tophat-http.core.wasm"];
  for (const c of candidates) {
    const p = fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("the protocol core (tophat-http.core.wasm) is not built: run `npm run build`");
}

/**
 * One instance of the protocol core, for Node. Calls are synchronous and cheap; a trap
 * replaces the instance and throws {@link CoreTrapError} for that call only. Byte outputs
 * are Buffers.
 */
export class Core extends PortableCore {
  /** Compiles the core module from `path` (default: the built one). */
  static load(path: string = defaultCorePath()): Core {
    return new Core(readFileSync(path));
  }

  /** @internal */
  protected override allocate(length: number): Uint8Array {
    return Buffer.allocUnsafe(length);
  }

  /** @internal */
  protected override utf8Length(text: string): number {
    // Sizes what Buffer#write below fills: the pair must agree, or bytes of the pool leak.
    return Buffer.byteLength(text, "utf8");
  }

  /** @internal */
  protected override writeUtf8(into: Uint8Array, at: number, text: string): void {
    // `into` came from allocate, so it is a Buffer; Buffer#write is Node's fastest UTF-8 path.
    if (Buffer.isBuffer(into)) into.write(text, at, "utf8");
    else super.writeUtf8(into, at, text);
  }
}
