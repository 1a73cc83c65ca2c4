// What every example host built on the protocol core alone must do (the JavaScript one in
// examples/core/, the C and Python bindings' examples): serve curl and raw sockets over
// loopback with keep-alive, pipelining, chunked uploads with trailers, Expect:
// 100-continue, heads trickled a byte at a time, HEAD, and refusals that close. Each example
// answers a request with `<method> <path> <body length>[ <trailer>=<value>…]\n`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { connectTcp, curl, header } from "./server-harness.js";
import { skipWithout } from "./tools.js";

/** Declares the scenarios for a host listening on `base()` (e.g. http://127.0.0.1:1234). */
export function hostScenarios(name: string, base: () => string): void {
  const noCurl = skipWithout("curl", `the curl scenarios of ${name}`);
  const port = (): number => Number(new URL(base()).port);

  describe(`${name}: served like an HTTP/1.1 server`, () => {
    it.skipIf(noCurl)("answers curl twice over one kept-alive connection", async () => {
      const r = await curl(["-v", `${base()}/one`, `${base()}/two?x=1`]);
      expect(r.stdout).toBe("GET /one 0\nGET /two 0\n");
      expect(r.stderr).toMatch(/Re-using existing connection|Reusing existing/);
    });

    it.skipIf(noCurl)("reads a chunked upload from curl (1 MB)", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "tophat-upload-"));
      const file = path.join(dir, "upload.bin");
      writeFileSync(file, Buffer.alloc(1_000_000, 0x61));
      try {
        const r = await curl(["-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${file}`, `${base()}/up`], 20_000);
        expect(r.stdout).toBe("POST /up 1000000\n");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.skipIf(noCurl)("answers Expect: 100-continue before curl sends the body", async () => {
      const r = await curl(["-v", "-H", "Expect: 100-continue", "--data-binary", "hello", `${base()}/expect`]);
      expect(r.stdout).toBe("POST /expect 5\n");
      expect(r.stderr).toMatch(/HTTP\/1\.1 100 Continue/);
    });

    it("answers three pipelined requests in order, and a HEAD without a body", async () => {
      const c = await connectTcp(port());
      await c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcHEAD /c HTTP/1.1\r\nHost: x\r\n\r\n");
      const [a, b, h] = await c.responses(3, { heads: [false, false, true] });
      expect(a!.body.toString()).toBe("GET /a 0\n");
      expect(b!.body.toString()).toBe("POST /b 3\n");
      expect(h!.status).toBe(200);
      expect(header(h!, "content-length")).toBe("10"); // "HEAD /c 0\n", announced, not sent
      expect(h!.body.length).toBe(0);
      c.destroy();
    });

    it("keeps chunk trailers apart from the headers", async () => {
      const c = await connectTcp(port());
      await c.write("POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n");
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("POST /t 5 X-Sum=5\n");
      c.destroy();
    });

    it("answers a head sent one byte at a time", async () => {
      const c = await connectTcp(port());
      const head = `GET /slow HTTP/1.1\r\nHost: x\r\n${"X-Pad: 0123456789\r\n".repeat(20)}\r\n`;
      for (const ch of head) await c.write(ch);
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("GET /slow 0\n");
      c.destroy();
    });

    it("refuses a bad request with the core's status and closes", async () => {
      const c = await connectTcp(port());
      await c.write("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
      const [r] = await c.responses(1);
      expect(r!.status).toBe(400);
      expect(header(r!, "connection")).toBe("close");
      await c.waitEnded();
    });

    it("closes after a request that asks for it (HTTP/1.0 without keep-alive)", async () => {
      const c = await connectTcp(port());
      await c.write("GET /old HTTP/1.0\r\n\r\n");
      const [r] = await c.responses(1);
      expect(r!.body.toString()).toBe("GET /old 0\n");
      await c.waitEnded();
    });
  });
}
