// Not an HTTP server: the floor under every server in this benchmark. It counts request
// heads in each chunk that node:net hands it and writes a reply prepared at start-up for
// each (no parsing, no per-request work). What it reaches is what net.Socket, the kernel
// and wrk allow on this machine; no server over node:net can go faster.
import net from "node:net";
import { fixedReply, repliesFor, scenario, port, ready } from "./payload.js";

const reply = fixedReply(scenario);

const server = net.createServer((socket) => {
  socket.on("data", (chunk) => {
    const out = repliesFor(chunk, reply);
    if (out) socket.write(out);
  });
  // wrk resets its connections at the end of a run.
  socket.on("error", () => socket.destroy());
});
server.listen(port, "127.0.0.1", () => ready(server.address().port));
