// `npm start`: a small server that answers every request with what Tophat's protocol core
// made of it — method, target, version, fields and body framing as JSON, or the rejection
// and its status. It drives the core directly over node:net (the full server API,
// `accept()`/`serve()`, is built on the same core). Try:
//   curl -i http://127.0.0.1:8080/hello?x=1
//   printf 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n' | nc 127.0.0.1 8080
import net from "node:net";
import { Core, DEFAULT_LIMITS, RequestHeadView } from "../dist/host/index.js";

const port = Number(process.env.PORT ?? 8080);
const core = Core.load();

function respond(socket, status, body, close) {
  const framed = core.frameHead(
    { status, headers: [{ name: "Content-Type", value: "application/json" }], bodyLength: body.length },
    { head: false, http10: false, close },
    new Date().toUTCString(),
  );
  if (framed.tag !== "head") throw new Error(`framing failed: ${framed.val.reason}`);
  socket.write(framed.val.bytes);
  socket.write(body);
  if (framed.val.close) socket.end();
}

const server = net.createServer((socket) => {
  let buffered = Buffer.alloc(0);
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const out = core.parseHead(buffered, DEFAULT_LIMITS);
    if (out.tag === "incomplete") return;
    if (out.tag === "invalid") {
      respond(socket, out.val.status, Buffer.from(JSON.stringify(out.val, null, 2) + "\n"), true);
      return;
    }
    const view = new RequestHeadView(buffered, out.val);
    const report = {
      method: view.method,
      target: view.target,
      path: view.path,
      query: view.rawQuery,
      httpVersion: view.httpVersion,
      headers: [...view.headers],
      body: out.val.body,
      keepAlive: out.val.keepAlive,
    };
    // This inspector reads heads only: it closes rather than skipping a body.
    respond(socket, 200, Buffer.from(JSON.stringify(report, null, 2) + "\n"), true);
    buffered = Buffer.alloc(0);
  });
});

server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`inspecting requests on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`);
});
