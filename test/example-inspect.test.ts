// `npm run inspect` (examples/inspect.js) serves, and answers with what the core parsed.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";

let app: RunningExample;
let base = "";

beforeAll(async () => {
  app = await startExample("examples/inspect.js");
  base = app.base;
});

afterAll(() => app.stop());

function rawRequest(bytes: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.end(bytes));
    let data = "";
    socket.on("data", (c: Buffer) => (data += c.toString("latin1")));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

describe("examples/inspect.js", () => {
  it("reports the parsed request to fetch", async () => {
    const res = await fetch(`${base}/hello?x=1`, { method: "POST", headers: { "X-Probe": "yes" }, body: "twelve bytes" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { method: string; path: string; query: Record<string, string>; headers: [string, string][]; bodyBytes: number };
    expect(body.method).toBe("POST");
    expect(body.path).toBe("/hello");
    expect(body.query).toEqual({ x: "1" });
    expect(body.headers).toContainEqual(["X-Probe", "yes"]);
    expect(body.bodyBytes).toBe(12);
  });

  it("answers a smuggling attempt with the core's 400 and closes", async () => {
    const reply = await rawRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(reply).toContain("Connection: close\r\n");
    expect(reply).toContain("Bad Request (content-length-with-transfer-encoding)");
  });
});
