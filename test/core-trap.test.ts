// The binding's guard: a trap in the core fails only the call that caused it, and the
// next call runs on a fresh instance. Uses the test-only core that traps on method TRAP.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Core, CoreTrapError, DEFAULT_LIMITS } from "../host/core.js";

const trapCore = path.resolve(import.meta.dirname, "..", "dist", "test", "trap.core.wasm");
const bytes = (s: string) => new TextEncoder().encode(s);

describe("core trap recovery", () => {
  it("throws CoreTrapError for the trapping call, then serves on a fresh instance", () => {
    const core = Core.load(trapCore);
    expect(core.parseHead(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS).tag).toBe("complete");
    expect(() => core.parseHead(bytes("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS)).toThrow(CoreTrapError);
    expect(core.restarts).toBe(1);
    const after = core.parseHead(bytes("GET /next HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS);
    expect(after.tag).toBe("complete");
    if (after.tag === "complete") expect(after.val.target).toEqual({ start: 4, len: 5 });
    // Framing works on the new instance too.
    expect(core.frameHead({ status: 204, headers: [], bodyLength: 0 }, { head: false, http10: false, close: false }).tag).toBe("head");
  });

  it("the release core has no trap trigger", () => {
    const core = Core.load();
    const out = core.parseHead(bytes("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS);
    expect(out.tag).toBe("complete");
    expect(core.restarts).toBe(0);
  });
});
