// websocket() with the ws package's client over real sockets: echo (text and binary),
// close codes both ways, a 10 MB message refused at maxPayload with 1009, 1,000 sockets
// at once, server shutdown closing them with 1001, origin refusal, 426 for a plain GET,
// refusals of bad handshakes, and the Web Streams pair path (accept({ readable, writable })).
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, type RawData } from "ws";
import { accept, Router, serve, websocket, type Server } from "../host/index.js";
import { connectTcp, header, socketToWebStreams } from "./support/server-harness.js";

/** Opens a ws client; resolves once open. */
function open(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** The next message. */
function message(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once("message", (data: RawData, binary: boolean) => resolve({ data: data as Buffer, binary })));
}

/** The close code and reason. */
function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

/** Answered with `status` instead of a 101: the client's unexpected-response. */
function refusedWith(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => reject(new Error("the handshake was accepted")));
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", () => undefined);
  });
}

const serverCloses: { code: number; reason: string }[] = [];

function app(): Router {
  return new Router()
    .get(
      "/echo",
      websocket((ws) => {
        ws.on("message", (data, binary) => ws.send(data, { binary }));
        ws.on("close", (code, reason) => serverCloses.push({ code, reason: reason.toString() }));
      }),
    )
    .get(
      "/bye",
      websocket((ws) => void ws.once("message", () => ws.close(4002, "server says bye"))),
    )
    .get(
      "/partners",
      websocket((ws) => void ws.on("message", (data) => ws.send(data)), { origins: ["https://partner.example"] }),
    )
    .get(
      "/chat",
      websocket((ws) => ws.send(`subprotocol ${ws.protocol}`), { protocol: (offered) => (offered.has("chat.v2") ? "chat.v2" : false) }),
    );
}

let server: Server | undefined;
afterEach(async () => {
  await server?.close({ graceMs: 500 });
  server = undefined;
  serverCloses.length = 0;
});

const wsUrl = (s: Server, path: string): string => `${s.url.replace("http", "ws")}${path}`;

describe("websocket() with the ws client", () => {
  it("echoes text and binary messages, keeping the kind", async () => {
    server = await serve(app().route, { port: 0 });
    const ws = await open(wsUrl(server, "/echo"));
    ws.send("hello");
    expect(await message(ws)).toEqual({ data: Buffer.from("hello"), binary: false });
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    ws.send(bytes);
    expect(await message(ws)).toEqual({ data: bytes, binary: true });
    ws.close();
    await closed(ws);
  });

  it("carries close codes and reasons both ways", async () => {
    server = await serve(app().route, { port: 0 });
    const client = await open(wsUrl(server, "/echo"));
    const clientDone = closed(client);
    client.close(4001, "client says bye");
    expect(await clientDone).toEqual({ code: 4001, reason: "client says bye" });
    await expect.poll(() => serverCloses).toEqual([{ code: 4001, reason: "client says bye" }]);

    const other = await open(wsUrl(server, "/bye"));
    const otherDone = closed(other);
    other.send("go");
    expect(await otherDone).toEqual({ code: 4002, reason: "server says bye" });
  });

  it("refuses a 10 MB message at maxPayload (1 MiB) with 1009, and serves on", async () => {
    server = await serve(app().route, { port: 0 });
    const ws = await open(wsUrl(server, "/echo"));
    const done = closed(ws);
    ws.send(Buffer.alloc(10 * 1024 * 1024, 7));
    expect((await done).code).toBe(1009);
    const again = await open(wsUrl(server, "/echo"));
    again.send("still here");
    expect((await message(again)).data.toString()).toBe("still here");
    again.close();
  });

  it("serves 1,000 sockets at once, each echoing once", async () => {
    server = await serve(app().route, { port: 0 });
    const url = wsUrl(server, "/echo");
    const began = performance.now();
    const sockets = await Promise.all(Array.from({ length: 1000 }, () => open(url)));
    const opened = performance.now();
    const replies = await Promise.all(
      sockets.map(async (ws, i) => {
        const reply = message(ws);
        ws.send(`#${i}`);
        return (await reply).data.toString();
      }),
    );
    const echoed = performance.now();
    expect(replies).toEqual(sockets.map((_, i) => `#${i}`));
    await Promise.all(
      sockets.map((ws) => {
        const done = closed(ws);
        ws.close();
        return done;
      }),
    );
    console.log(`1,000 WebSockets: opened in ${(opened - began).toFixed(0)} ms, echoed in ${(echoed - opened).toFixed(0)} ms, closed in ${(performance.now() - echoed).toFixed(0)} ms`);
  }, 60_000);

  it("closes open sockets with 1001 when the server closes, counting them as upgraded", async () => {
    const s = (server = await serve(app().route, { port: 0 }));
    const sockets = await Promise.all(Array.from({ length: 5 }, () => open(wsUrl(s, "/echo"))));
    const codes = Promise.all(sockets.map((ws) => closed(ws)));
    const report = await s.close({ graceMs: 3_000 });
    server = undefined;
    expect((await codes).map((c) => c.code)).toEqual([1001, 1001, 1001, 1001, 1001]);
    expect(report).toEqual({ connections: 5, upgraded: 5, destroyed: 0, destroyedUpgraded: 0 });
  });

  it("checks the Origin: same-origin by default, a list when given; 403 otherwise; no Origin is a non-browser client", async () => {
    server = await serve(app().route, { port: 0 });
    (await open(wsUrl(server, "/echo"), { origin: server.url })).close();
    (await open(wsUrl(server, "/echo"))).close();
    expect(await refusedWith(wsUrl(server, "/echo"), { origin: "https://evil.example" })).toBe(403);
    expect(await refusedWith(wsUrl(server, "/echo"), { origin: "null" })).toBe(403);
    (await open(wsUrl(server, "/partners"), { origin: "https://partner.example" })).close();
    expect(await refusedWith(wsUrl(server, "/partners"), { origin: server.url })).toBe(403);
  });

  it("negotiates a subprotocol with the protocol option", async () => {
    server = await serve(app().route, { port: 0 });
    const ws = new WebSocket(wsUrl(server, "/chat"), ["chat.v1", "chat.v2"]);
    const first = message(ws);
    expect((await first).data.toString()).toBe("subprotocol chat.v2");
    expect(ws.protocol).toBe("chat.v2");
    ws.close();
  });

  it("answers a plain GET with 426 and Upgrade: websocket; bad handshakes with 405/426/400; the connection goes on", async () => {
    server = await serve(app().route, { port: 0 });
    const plain = await fetch(`${server.url}/echo`);
    expect(plain.status).toBe(426);
    expect(plain.headers.get("upgrade")).toBe("websocket");
    await plain.text();

    const c = await connectTcp(server.port);
    const hs = (extra: string, key = "dGhlIHNhbXBsZSBub25jZQ=="): string =>
      `GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`;
    await c.write(hs("Sec-WebSocket-Version: 8\r\n"));
    await c.write(hs("Sec-WebSocket-Version: 13\r\n", "short"));
    await c.write(hs("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b\r\n"));
    const [version, key, protocol] = await c.responses(3);
    expect(version!.status).toBe(426);
    expect(header(version!, "sec-websocket-version")).toBe("13");
    expect(key!.status).toBe(400);
    expect(protocol!.status).toBe(400);
    expect(protocol!.body.toString()).toMatch(/Sec-WebSocket-Protocol/);
    expect(await c.stillOpenAfter(20)).toBe(true);
    c.destroy();
  });

  it("hands ws the frames sent in the same write as the handshake", async () => {
    server = await serve(app().route, { port: 0 });
    const c = await connectTcp(server.port);
    // A masked text frame "hi" (RFC 6455 §5.2) right behind the handshake.
    const mask = Buffer.from([1, 2, 3, 4]);
    const frame = Buffer.concat([Buffer.from([0x81, 0x82]), mask, Buffer.from([0x68 ^ 1, 0x69 ^ 2])]);
    const handshake = "GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    await c.write(Buffer.concat([Buffer.from(handshake), frame]));
    const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    await c.waitFor((received) => received.length >= head.length + 4);
    expect(c.received.subarray(0, head.length).toString()).toBe(head);
    expect([...c.received.subarray(head.length)]).toEqual([0x81, 0x02, 0x68, 0x69]);
    c.destroy();
  });
});

describe("websocket() over accept({ readable, writable })", () => {
  it("echoes through a Web Streams pair", async () => {
    const handler = app().route;
    const listener = net.createServer({ allowHalfOpen: true }, (socket) => void accept(socketToWebStreams(socket), handler));
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const { port } = listener.address() as net.AddressInfo;
    try {
      const ws = await open(`ws://127.0.0.1:${port}/echo`);
      ws.send("over web streams");
      expect(await message(ws)).toEqual({ data: Buffer.from("over web streams"), binary: false });
      ws.send(Buffer.from([9, 8, 7]));
      expect((await message(ws)).data).toEqual(Buffer.from([9, 8, 7]));
      const done = closed(ws);
      ws.close(4003, "done");
      expect(await done).toEqual({ code: 4003, reason: "done" });
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});

