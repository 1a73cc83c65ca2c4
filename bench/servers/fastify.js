import Fastify from "fastify";
import { HELLO, JSON_DOC, scenario, port, ready } from "./payload.js";

const app = Fastify({ logger: false });
app.get("/", async (req, reply) => {
  if (scenario === "json") return JSON_DOC;
  reply.type("text/plain; charset=utf-8");
  return HELLO;
});
await app.listen({ port, host: "127.0.0.1" });
ready(app.server.address().port);
