// The sandbox: a trap in the Wasm core fails only the connection whose bytes caused it
// (500, then close); the core is re-instantiated and every other connection keeps working.
// Uses the test-only core (dist/test/trap.core.wasm) that traps on the method TRAP.
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Core } from "../host/core.js";
import { serve, type Server } from "../host/index.js";
import { RawClient } from "./support/limits-client.js";

const trapCorePath = path.resolve(import.meta.dirname, "..", "dist", "test", "trap.core.wasm");

let core: Core;
let server: Server;
const errors: unknown[][] = [];

beforeEach(async () => {
  core = Core.load(trapCorePath);
  errors.length = 0;
  server = await serve(
    async (req, res) => {
      if (req.method === "POST") return res.setText(`${req.path}:${await req.text()}`).send();
      return res.setText(`ok ${req.path}`).send();
    },
    {
      core,
      logger: { warn: () => undefined, error: (...args: unknown[]) => void errors.push(args) },
    },
  );
});

afterEach(async () => {
  await server.close({ graceMs: 500 });
});

async function get(c: RawClient, target: string): Promise<void> {
  await c.write(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
  const res = await c.response();
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe(`ok ${target}`);
}

describe("a trap in the core", () => {
  it("fails only the connection that caused it (500 + close); the others and new ones keep working", async () => {
    const a = await RawClient.connect(server.port);
    await get(a, "/a1");

    const b = await RawClient.connect(server.port);
    await b.write("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n");
    const res = await b.response();
    expect(res.status).toBe(500);
    expect(res.headers.connection).toBe("close");
    await b.closed();
    expect(core.restarts).toBe(1);
    expect(errors.length).toBeGreaterThan(0);

    // A, opened before the trap, still works on the same connection.
    await get(a, "/a2");
    expect(a.gone).toBe(false);
    // New connections work.
    const c = await RawClient.connect(server.port);
    await get(c, "/c1");
    await get(c, "/c2");
    a.destroy();
    c.destroy();
    expect(core.restarts).toBe(1);
  });

  it("a connection in the middle of a chunked body is unaffected by another connection's trap", async () => {
    const a = await RawClient.connect(server.port);
    await a.write("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\n");
    const b = await RawClient.connect(server.port);
    await b.write("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect((await b.response()).status).toBe(500);
    await b.closed();
    expect(core.restarts).toBe(1);
    // The decoder state lives in the host: the new instance picks up mid-chunk.
    await a.write("abc\r\n0\r\n\r\n");
    const res = await a.response();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("/upload:helloabc");
    a.destroy();
  });

  it("a trap behind a pipelined request: the first is answered, the trapping one gets 500, then close", async () => {
    const b = await RawClient.connect(server.port);
    await b.write("GET /first HTTP/1.1\r\nHost: a\r\n\r\nTRAP / HTTP/1.1\r\nHost: a\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n");
    const first = await b.response();
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe("ok /first");
    const second = await b.response();
    expect(second.status).toBe(500);
    await b.closed();
    expect(b.unread.length).toBe(0);
    expect(core.restarts).toBe(1);
  });

  it("many traps in a row: each costs only its own connection", async () => {
    const a = await RawClient.connect(server.port);
    for (let i = 0; i < 5; i++) {
      const b = await RawClient.connect(server.port);
      await b.write("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n");
      expect((await b.response()).status).toBe(500);
      await b.closed();
      await get(a, `/a${i}`);
    }
    expect(core.restarts).toBe(5);
    a.destroy();
  });
});
