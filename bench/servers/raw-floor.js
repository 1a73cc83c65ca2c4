// Not an HTTP server: the floor under every server in this benchmark. It counts request
// heads in each chunk that node:net hands it and writes a reply prepared at start-up for
// each (no parsing, no per-request work). What it reaches is what net.Socket, the kernel
// and wrk allow on this machine; no server over node:net can go faster.
import net from "node:net";
import { HELLO, JSON_DOC, scenario, port, ready } from "./payload.js";

const body = scenario === "json" ? JSON.stringify(JSON_DOC) : HELLO;
const type = scenario === "json" ? "application/json" : "text/plain; charset=utf-8";
const reply = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}`);

const server = net.createServer((socket) => {
  socket.on("data", (chunk) => {
    let heads = 0;
    for (let i = chunk.indexOf("\r\n\r\n"); i !== -1; i = chunk.indexOf("\r\n\r\n", i + 4)) heads++;
    if (heads > 0) socket.write(heads === 1 ? reply : Buffer.concat(Array.from({ length: heads }, () => reply)));
  });
  // wrk resets its connections at the end of a run.
  socket.on("error", () => socket.destroy());
});
server.listen(port, "127.0.0.1", () => ready(server.address().port));
