import http from "node:http";
import https from "node:https";
import { DOWNLOAD, HELLO, JSON_DOC, scenario, port, ready, tlsFiles } from "./payload.js";

function handle(req, res) {
  if (scenario === "upload") {
    // Count the body as it streams in (nothing kept), answer the count.
    let n = 0;
    req.on("data", (chunk) => (n += chunk.length));
    req.on("end", () => {
      const body = String(n);
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
      res.end(body);
    });
  } else if (scenario === "download") {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": DOWNLOAD.length });
    res.end(DOWNLOAD);
  } else if (scenario === "json") {
    const body = JSON.stringify(JSON_DOC);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(HELLO) });
    res.end(HELLO);
  }
}

// The tls scenario is node:https, the same handler.
const server = scenario === "tls" ? https.createServer(tlsFiles(), handle) : http.createServer(handle);
server.keepAliveTimeout = 5000;
server.listen(port, "127.0.0.1", () => ready(server.address().port));
