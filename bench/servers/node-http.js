import http from "node:http";
import { HELLO, JSON_DOC, scenario, port, ready } from "./payload.js";

const server = http.createServer((req, res) => {
  if (scenario === "json") {
    const body = JSON.stringify(JSON_DOC);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(HELLO) });
    res.end(HELLO);
  }
});
server.keepAliveTimeout = 5000;
server.listen(port, "127.0.0.1", () => ready(server.address().port));
