// A failure after the head is on the wire, over real sockets: the client sees an incomplete
// response (no last chunk, or fewer bytes than the Content-Length, then the close), the
// ResponseWritten names the failure (never `complete`), and it is logged once at error
// level with the request line and what was written.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Handler, ResponseWritten } from "../host/index.js";
import { connectTcp, sleep, startServer, until, type TestServer } from "./support/server-harness.js";

describe("failures after the head is on the wire", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** Serves `handler`, sends one GET, and returns what the client got and what was reported. */
  const run = async (handler: Handler): Promise<{ received: string; reports: ResponseWritten[]; s: TestServer }> => {
    const reports: ResponseWritten[] = [];
    const s = (server = await startServer("serve", handler, { onResponse: (_req, written) => reports.push(written) }));
    const c = await connectTcp(s.port);
    await c.write("GET /body HTTP/1.1\r\nHost: t\r\n\r\n");
    await c.waitEnded(5000);
    await until(() => reports.length === 1, "the report");
    await sleep(50);
    return { received: c.received.toString("latin1"), reports, s };
  };

  /** One line at error level naming the request, the status and the bytes written; nothing else above debug. */
  const expectLoggedOnce = (s: TestServer, outcome: string, written: ResponseWritten): void => {
    expect(s.log.warnings).toEqual([]);
    expect(s.log.errors.length).toBe(1);
    const line = s.log.errors[0]!;
    expect(line.message).toContain(`the response to GET "/body" failed after its head was sent (${outcome}): status 200, ${written.bytesWritten} bytes written`);
    expect(line.rest[0]).toBe(written.error);
    expect(line.rest[1]).toMatchObject({ method: "GET", target: "/body", status: 200, outcome, bytesWritten: written.bytesWritten });
  };

  it("an async iterable that throws after two chunks: no last chunk, outcome body-failed, logged once", async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Buffer.from("one\n");
      yield Buffer.from("two\n");
      throw new Error("the database cursor broke");
    }
    const { received, reports, s } = await run(async (_req, res) => res.setBody(body()).send());
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toMatch(/transfer-encoding: chunked/i);
    expect(received).toContain("two\n");
    expect(received.endsWith("0\r\n\r\n")).toBe(false);
    const [w] = reports;
    expect(w!.outcome).toBe("body-failed");
    expect(w!.error?.message).toBe("the database cursor broke");
    expect(w!.bytesWritten).toBe(received.length);
    expectLoggedOnce(s, "body-failed", w!);
  });

  it("a ReadableStream that errors after a chunk: the same", async () => {
    const { received, reports, s } = await run(async (_req, res) => {
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("first\n"));
          else controller.error(new Error("upstream reset"));
        },
      });
      return res.setBody(body).send();
    });
    expect(received).toContain("first\n");
    expect(received.endsWith("0\r\n\r\n")).toBe(false);
    expect(reports[0]!.outcome).toBe("body-failed");
    expectLoggedOnce(s, "body-failed", reports[0]!);
  });

  it("an fs stream of a file that doesn't exist: the head went out, outcome body-failed, logged once", async () => {
    const { received, reports, s } = await run(async (_req, res) => res.setBody(createReadStream("/nonexistent/tophat-missing-file")).send());
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.endsWith("0\r\n\r\n")).toBe(false);
    expect(reports[0]!.outcome).toBe("body-failed");
    expect((reports[0]!.error as NodeJS.ErrnoException).code).toBe("ENOENT");
    expectLoggedOnce(s, "body-failed", reports[0]!);
  });

  it("an fs stream that opens but fails to read (a directory: EISDIR): the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tophat-wire-"));
    try {
      const { received, reports, s } = await run(async (_req, res) => res.setHeader("Content-Type", "text/plain").setBody(createReadStream(dir)).send());
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(received.endsWith("0\r\n\r\n")).toBe(false);
      expect(reports[0]!.outcome).toBe("body-failed");
      expect((reports[0]!.error as NodeJS.ErrnoException).code).toBe("EISDIR");
      expectLoggedOnce(s, "body-failed", reports[0]!);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a Content-Length the body falls short of (end() early): fewer bytes then the close, outcome length-mismatch, logged once", async () => {
    const { received, reports, s } = await run(async (_req, res) => {
      const body = res.setHeader("Content-Length", "100").stream();
      await body.write("only forty bytes ".repeat(2) + "......");
      return body.end();
    });
    const [head, rest] = received.split("\r\n\r\n") as [string, string];
    expect(head).toMatch(/\r\ncontent-length: 100/i);
    expect(rest.length).toBe(40);
    expect(reports[0]!.outcome).toBe("length-mismatch");
    expect(reports[0]!.error?.message).toMatch(/60 bytes short/);
    expectLoggedOnce(s, "length-mismatch", reports[0]!);
  });

  it("a body longer than its Content-Length: the excess never goes out, outcome length-mismatch, logged once", async () => {
    const { received, reports, s } = await run(async (_req, res) => {
      async function* body(): AsyncGenerator<Uint8Array> {
        yield Buffer.from("12345");
        yield Buffer.from("678901");
      }
      return res.setHeader("Content-Length", "8").setBody(body()).send();
    });
    const rest = received.split("\r\n\r\n")[1]!;
    expect(rest).toBe("12345");
    expect(reports[0]!.outcome).toBe("length-mismatch");
    expect(reports[0]!.error?.message).toMatch(/longer than the Content-Length/);
    expectLoggedOnce(s, "length-mismatch", reports[0]!);
  });

  it("a body longer than its Content-Length through res.stream(), the handler rethrowing: the same, once", async () => {
    const { reports, s } = await run(async (_req, res) => {
      const body = res.setHeader("Content-Length", "3").stream();
      await body.write("abc");
      await body.write("d");
      return body.end();
    });
    expect(reports[0]!.outcome).toBe("length-mismatch");
    expectLoggedOnce(s, "length-mismatch", reports[0]!);
  });
});
