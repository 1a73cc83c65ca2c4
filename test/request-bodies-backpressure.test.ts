// Backpressure from a multipart file to the client's socket: while the handler doesn't read
// the file, the server stops reading the connection, the kernel's buffers fill and the
// client's writes stall. Measured: the bytes the server read off the socket against the
// bytes the handler consumed.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { accept, type Handler } from "../host/index.js";
import { RawClient, sleep, until } from "./support/limits-client.js";

const KiB = 1024;
const MiB = 1024 * KiB;

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A TCP server whose connections are served by accept(), counting the bytes read off each socket. */
async function countingServer(handler: Handler): Promise<{ port: number; read: () => number }> {
  let read = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    // An extra 'data' listener only watches: the connection pauses and resumes the socket.
    socket.on("data", (chunk: Buffer) => (read += chunk.length));
    void accept(socket, handler, { bodyTimeoutMs: 60_000 });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as net.AddressInfo).port, read: () => read };
}

describe("multipart backpressure", () => {
  it("a handler that stops reading a file stops the server reading the socket; the client's writes stall; reading again finishes the upload", async () => {
    const fileBytes = 64 * MiB;
    let consumed = 0;
    let paused = true;
    let resume: (() => void) | undefined;
    const { port, read } = await countingServer(async (req, res) => {
      for await (const part of req.multipart({ maxFileBytes: fileBytes })) {
        if (part.kind !== "file") continue;
        for await (const chunk of part.stream as AsyncIterable<Buffer>) {
          consumed += chunk.length;
          // A slow consumer: it takes the first MiB, then stops until the test lets it go on.
          if (paused && consumed >= MiB) await new Promise<void>((resolve) => (resume = resolve));
        }
      }
      return res.setText(String(consumed)).send();
    });

    const boundary = "backpressure-boundary";
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const total = head.length + fileBytes + tail.length;
    const c = await RawClient.connect(port);
    await c.write(`POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${total}\r\n\r\n`);
    await c.write(head);

    // The client writes as fast as its socket takes the bytes.
    let accepted = 0;
    let lastAcceptedAt = performance.now();
    const piece = Buffer.alloc(64 * KiB, 0x42);
    const sending = (async () => {
      for (let sent = 0; sent < fileBytes; sent += piece.length) {
        await c.write(piece);
        accepted += piece.length;
        lastAcceptedAt = performance.now();
      }
      await c.write(tail);
    })();

    await until(() => resume !== undefined, 10_000, "the handler to pause");
    await until(() => performance.now() - lastAcceptedAt > 500, 20_000, "the client's writes to stall");
    const readAtStall = read();
    await sleep(300);
    console.log(
      `[multipart backpressure] handler consumed ${(consumed / MiB).toFixed(2)} MiB; server read ${(readAtStall / MiB).toFixed(2)} MiB off the socket; ` +
        `the client's socket took ${(accepted / MiB).toFixed(1)} MiB of ${(fileBytes / MiB).toFixed(0)} MiB (the rest waits in the kernel's buffers or unsent)`,
    );
    // Nothing more is read while the handler waits.
    expect(read()).toBe(readAtStall);
    // What the server read beyond what the handler consumed is a few buffers (the
    // connection's 64 KiB queue, the socket's, busboy's and the file stream's), not the file.
    expect(readAtStall - consumed).toBeLessThan(1 * MiB);
    expect(accepted).toBeLessThan(fileBytes / 2);

    paused = false;
    resume!();
    await sending;
    const res = await c.response(20_000);
    expect([res.status, res.body.toString()]).toEqual([200, String(fileBytes)]);
    expect(read()).toBeGreaterThan(fileBytes);
    c.destroy();
  }, 60_000);
});
