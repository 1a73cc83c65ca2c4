// errorFormat over real sockets with fetch: "prefer-json" answers fetch's `*/*` (and no
// Accept) with problem+json and an explicit text Accept with text; the router's 405 keeps
// its Allow in every format.
import { afterEach, describe, expect, it } from "vitest";
import { Glitch, Router, type ErrorFormat } from "../host/index.js";
import { startServer, type TestServer } from "./support/server-harness.js";

describe("errorFormat", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const app = new Router().get("/items/:id", async (req) => {
    throw Glitch.notFound(`no item ${req.params.id}`);
  });
  const start = async (errorFormat: ErrorFormat): Promise<TestServer> => (server = await startServer("serve", app.route, { errorFormat }));

  it('"prefer-json": */* and no Accept get problem+json; text/html and text/plain get text; Vary: Accept', async () => {
    const s = await start("prefer-json");
    for (const accept of ["*/*", undefined, "application/json"]) {
      const res = await fetch(`${s.url}/items/7`, { headers: accept === undefined ? {} : { accept } });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("vary")).toBe("Accept");
      expect(await res.json()).toEqual({ type: "about:blank", title: "Not Found", status: 404, detail: "no item 7" });
    }
    for (const accept of ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/plain"]) {
      const res = await fetch(`${s.url}/items/7`, { headers: { accept } });
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await res.text()).toBe("no item 7\n");
    }
  });

  it.each(["negotiate", "problem+json", "prefer-json"] as const)("the router's 405 keeps its Allow (%s)", async (format) => {
    const s = await start(format);
    for (const accept of ["*/*", "text/plain", "application/json"]) {
      const res = await fetch(`${s.url}/items/7`, { method: "DELETE", headers: { accept } });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toMatch(/GET/);
      await res.arrayBuffer();
    }
  });

  it("refuses an unknown format", async () => {
    await expect(startServer("serve", app.route, { errorFormat: "json" as ErrorFormat })).rejects.toThrow(/prefer-json/);
  });
});
