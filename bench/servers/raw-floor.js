// Not an HTTP server: the floor under every server in this benchmark. It counts request
// heads in each chunk that node:net hands it and writes a reply prepared at start-up for
// each (no parsing, no per-request work). What it reaches is what net.Socket, the kernel
// and wrk allow on this machine; no server over node:net can go faster. For tls it is the
// same over tls.Server (the floor node:tls sets); for upload it counts bytes and answers
// once it has seen UPLOAD_BYTES (the body's size, known to the parent; head and chunk
// framing bytes count too, so it answers a few hundred bytes early out of 1 GiB).
import net from "node:net";
import tls from "node:tls";
import { fixedReply, repliesFor, scenario, port, ready, tlsFiles } from "./payload.js";

const reply = fixedReply(scenario === "tls" ? "hello" : scenario);
const uploadBytes = Number(process.env.UPLOAD_BYTES);

function onSocket(socket) {
  if (scenario === "upload") {
    let seen = 0;
    socket.on("data", (chunk) => {
      const was = seen;
      seen += chunk.length;
      if (was < uploadBytes && seen >= uploadBytes) socket.write(reply);
    });
  } else {
    socket.on("data", (chunk) => {
      const out = repliesFor(chunk, reply);
      if (out) socket.write(out);
    });
  }
  // wrk resets its connections at the end of a run.
  socket.on("error", () => socket.destroy());
}

const server = scenario === "tls" ? tls.createServer(tlsFiles(), onSocket) : net.createServer(onSocket);
server.listen(port, "127.0.0.1", () => ready(server.address().port));
