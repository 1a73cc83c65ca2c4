import { describe, expect, it } from "vitest";
import { Core, DEFAULT_LIMITS } from "../host/core.js";

describe("core binding", () => {
  it("parses a simple request", () => {
    const core = Core.load();
    const out = core.parseHead(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS);
    expect(out.tag).toBe("complete");
  });
});
