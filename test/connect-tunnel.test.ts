// CONNECT tunnels (RFC 9110 §9.3.6) with the acceptConnect option: a handler opens one
// with res.upgrade({ status: 200 }), whose head the core frames with no Content-Length,
// Transfer-Encoding or Connection field; after it the connection carries the tunnel's
// bytes, never parsed as HTTP. Driven by curl's --proxytunnel (a real client that speaks
// CONNECT) and raw sockets; refusals are ordinary responses; a 2xx through send() is an
// error, not a tunnel. Without the option CONNECT is 501 (test/upgrade.test.ts).
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Handler, type ResponseWritten, type Server } from "../host/index.js";
import { captureLogger, connectTcp, curl, header } from "./support/server-harness.js";
import { skipWithout } from "./support/tools.js";

const noCurl = skipWithout("curl", "the CONNECT tunnel test with curl --proxytunnel");

let echo: net.Server;
let origin: http.Server;
let proxy: Server;
const logger = captureLogger();
const written: ResponseWritten[] = [];
const port = (s: net.Server | http.Server): number => (s.address() as net.AddressInfo).port;

/** A tunnelling proxy for loopback targets: 403 for any other host, 502 when the target refuses. */
const tunnel: Handler = async (req, res) => {
  // A handler that gets it wrong: a 2xx through send() is refused, never a tunnel.
  if (req.authority === "127.0.0.1:1") return res.sendCode(200);
  if (req.method !== "CONNECT") return res.setText("not a proxy for that\n").sendCode(400);
  const [host, portText] = (req.authority ?? "").split(":");
  if (host !== "127.0.0.1") return res.setText("only loopback targets\n").sendCode(403);
  const target = net.connect(Number(portText), host);
  const ok = await new Promise<boolean>((resolve) => {
    target.once("connect", () => resolve(true));
    target.once("error", () => resolve(false));
  });
  if (!ok) return res.setText("the target refused the connection\n").sendCode(502);
  const up = await res.upgrade({ status: 200 });
  if (up.kind !== "duplex") throw new Error("serve() hands over a duplex");
  target.write(up.head);
  up.socket.pipe(target).pipe(up.socket);
  up.socket.on("error", () => target.destroy());
  target.on("error", () => up.socket.destroy());
  up.socket.resume();
  return up.written;
};

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  origin = http.createServer((_req, res) => res.end("hello from the origin\n"));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  proxy = await serve(tunnel, { acceptConnect: true, logger, onResponse: (_req, w) => written.push(w) });
});
afterAll(async () => {
  await proxy.close({ graceMs: 100 });
  echo.close();
  origin.close();
});

describe("CONNECT with acceptConnect", () => {
  it("opens a tunnel: a 2xx without framing fields, then bytes both ways, nothing parsed", async () => {
    const c = await connectTcp(proxy.port);
    const target = `127.0.0.1:${port(echo)}`;
    // The request and the tunnel's first bytes in one write.
    await c.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\nfirst bytes|`);
    await c.waitForText("first bytes|");
    const head = c.text.slice(0, c.text.indexOf("\r\n\r\n") + 4);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\nDate: [^\r]+ GMT\r\n\r\n$/);
    // What looks like HTTP is the tunnel's: echoed by the target, not answered by Tophat.
    await c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitForText("first bytes|GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    c.destroy();
    const w = written.find((x) => x.status === 200);
    expect(w?.outcome).toBe("complete");
  });

  it.skipIf(noCurl)("carries curl's HTTP request to the origin through --proxytunnel", async () => {
    const r = await curl(["-v", "--proxytunnel", "-x", `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${port(origin)}/`]);
    expect(r.stdout).toBe("hello from the origin\n");
    expect(r.stderr).toMatch(/CONNECT 127\.0\.0\.1:\d+ HTTP\/1\.1/);
    expect(r.stderr).toMatch(/HTTP\/1\.1 200 OK/);
  });

  it("answers refusals as ordinary responses, and the connection goes on", async () => {
    const c = await connectTcp(proxy.port);
    await c.write("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    const [r] = await c.responses(1);
    expect(r!.status).toBe(403);
    expect(r!.body.toString()).toBe("only loopback targets\n");
    expect(header(r!, "content-length")).toBe("22");
    await c.write("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
    const [, again] = await c.responses(2);
    expect(again!.status).toBe(400);
    c.destroy();
  });

  it("refuses a 2xx to CONNECT through send() as a handler error (a tunnel needs res.upgrade)", async () => {
    const c = await connectTcp(proxy.port);
    await c.write("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
    const [r] = await c.responses(1);
    expect(r!.status).toBe(500);
    expect(header(r!, "content-length")).toBeDefined();
    const logged = logger.entries.map((e) => [e.message, ...e.rest.map((x) => (x instanceof Error ? x.message : String(x)))].join(" ")).join("\n");
    expect(logged).toMatch(/to CONNECT opens a tunnel .*res\.upgrade\(\{ status: 200 \}\)/s);
    c.destroy();
  });
});
