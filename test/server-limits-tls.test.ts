// TLS: serve({ tls: { key, cert } }) serves HTTPS. A self-signed certificate is made with
// openssl at test time; clients are curl -k and Node's https (with the cert as CA, and
// with rejectUnauthorized: false), including keep-alive.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import https from "node:https";
import net from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type ResponseWritten, type Server } from "../host/index.js";
import { RawClient, selfSignedCert, within } from "./support/limits-client.js";
import { skipWithout } from "./support/tools.js";

const noCurl = skipWithout("curl", "the curl tests over TLS");
const noOpenssl = skipWithout("openssl", "the TLS tests (their certificate is made with openssl)");

const run = promisify(execFile);
let cert: ReturnType<typeof selfSignedCert>;
let server: Server;
const reported: ResponseWritten[] = [];

beforeAll(async () => {
  if (noOpenssl) return;
  cert = selfSignedCert();
  server = await serve(
    async (req, res) => {
      if (req.method === "POST") {
        const hash = createHash("sha256");
        let n = 0;
        for await (const c of req.body) {
          hash.update(c);
          n += c.length;
        }
        return res.setJson({ n, sha: hash.digest("hex") }).send();
      }
      if (req.path === "/big") return res.setBody(Buffer.alloc(2 * 1024 * 1024, 0x61)).send();
      return res.setText(`secure ${req.path}`).send();
    },
    { tls: { key: cert.key, cert: cert.cert }, onResponse: (_req, w) => reported.push(w) },
  );
});

afterAll(async () => {
  await server?.close({ graceMs: 1000 });
  cert?.cleanup();
});

function httpsGet(path: string, options: https.RequestOptions): Promise<{ status: number; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: "127.0.0.1", port: server.port, path, servername: "localhost", ...options }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
    });
    req.on("error", reject);
  });
}

describe.skipIf(noOpenssl)("HTTPS", () => {
  it("the url says https", () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
  });

  it.skipIf(noCurl)("curl -k gets an answer", async () => {
    const before = reported.length;
    const { stdout } = await run("curl", ["-k", "-s", "-S", "--max-time", "10", `${server.url}/curl`]);
    expect(stdout).toBe("secure /curl");
    const w = reported[before];
    expect(w?.status).toBe(200);
    expect(w?.outcome).toBe("complete");
    expect(w?.bytesWritten).toBe(w!.headBytes + w!.bodyBytes);
  });

  it.skipIf(noCurl)("curl -k reuses one connection for two requests (keep-alive)", async () => {
    const { stdout, stderr } = await run("curl", ["-k", "-s", "-S", "-v", "--max-time", "10", `${server.url}/one`, `${server.url}/two`]);
    expect(stdout).toBe("secure /onesecure /two");
    expect(stderr).toMatch(/Re-using existing connection|Reusing existing connection/);
    expect(stderr.match(/Connected to/g)?.length ?? 0).toBe(1);
  });

  it.skipIf(noCurl)("curl --cacert verifies the certificate", async () => {
    const { stdout } = await run("curl", ["-s", "-S", "--max-time", "10", "--cacert", cert.certPath, "--resolve", `localhost:${server.port}:127.0.0.1`, `https://localhost:${server.port}/verified`]);
    expect(stdout).toBe("secure /verified");
  });

  it("Node https with the cert as CA, keep-alive: the second request reuses the socket", async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: cert.cert });
    try {
      const a = await httpsGet("/a", { agent });
      const b = await httpsGet("/b", { agent });
      expect(a).toEqual({ status: 200, body: "secure /a", reused: false });
      expect(b).toEqual({ status: 200, body: "secure /b", reused: true });
    } finally {
      agent.destroy();
    }
  });

  it("Node https with rejectUnauthorized: false", async () => {
    const r = await httpsGet("/insecure", { rejectUnauthorized: false, agent: false });
    expect(r.status).toBe(200);
    expect(r.body).toBe("secure /insecure");
  });

  it.skipIf(noCurl)("a 2 MiB response and a 4 MiB chunked upload go through TLS intact", async () => {
    const { stdout } = await run("curl", ["-k", "-s", "-S", "--max-time", "20", "-o", "/dev/null", "-w", "%{size_download}", `${server.url}/big`]);
    expect(Number(stdout)).toBe(2 * 1024 * 1024);
    const body = Buffer.alloc(4 * 1024 * 1024, 0x7a);
    const out = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        { host: "127.0.0.1", port: server.port, method: "POST", path: "/up", rejectUnauthorized: false, agent: false },
        (res) => {
          let s = "";
          res.on("data", (c: Buffer) => (s += c.toString()));
          res.on("end", () => resolve(s));
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 64; i++) req.write(body.subarray(i * 65536, (i + 1) * 65536));
      req.end();
    });
    expect(JSON.parse(out)).toEqual({ n: body.length, sha: createHash("sha256").update(body).digest("hex") });
  });

  it("raw TLS socket: pipelined requests on one connection", async () => {
    const c = await RawClient.connect(server.port, { tls: true });
    await c.write("GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect((await c.response()).body.toString()).toBe("secure /p1");
    expect((await c.response()).body.toString()).toBe("secure /p2");
    await c.closed();
  });
});

describe.skipIf(noOpenssl)("TLS connections that never complete a handshake", () => {
  function rawConnect(port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(s));
      s.on("error", reject);
    });
  }

  it("close({ graceMs }) isn't held up by a TCP client that never starts its TLS handshake", async () => {
    const own = await serve((_req, res) => res.setText("x").send(), { tls: { key: cert.key, cert: cert.cert } });
    const raw = await rawConnect(own.port);
    raw.on("error", () => undefined);
    const t0 = performance.now();
    const closing = own.close({ graceMs: 300 });
    try {
      await within(closing, 3000, "close() with a pending TLS handshake");
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      // A reset (not a FIN: see the next test) lets the server drop the socket.
      raw.resetAndDestroy();
      await within(closing, 3000, "close() once the client reset").catch(() => undefined);
    }
  });

  it("a TCP client that connects and leaves (FIN) before the handshake leaves no socket behind: close() resolves", async () => {
    // serve() listens with allowHalfOpen: true; on a TLS server, a FIN before the handshake
    // then leaves the server's socket open for good (even past the TLS handshake timeout).
    const own = await serve((_req, res) => res.setText("x").send(), { tls: { key: cert.key, cert: cert.cert } });
    for (let i = 0; i < 3; i++) {
      const raw = await rawConnect(own.port);
      raw.on("error", () => undefined);
      raw.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await within(own.close({ graceMs: 300 }), 3000, "close() after clients that left before their handshake");
  });

  it("a TCP client that never starts its TLS handshake is cut off at headersTimeoutMs (not the TLS default of 120 s)", async () => {
    const own = await serve((_req, res) => res.setText("x").send(), { tls: { key: cert.key, cert: cert.cert }, headersTimeoutMs: 300 });
    const raw = await rawConnect(own.port);
    raw.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => raw.on("close", () => resolve()));
    try {
      await within(closed, 3000, "the server to drop the silent TLS client");
    } finally {
      raw.resetAndDestroy();
      await within(own.close({ graceMs: 100 }), 3000, "close()").catch(() => undefined);
    }
  });
});
