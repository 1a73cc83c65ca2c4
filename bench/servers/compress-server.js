// One server for `npm run bench:compress`: Tophat's compress() or fastify with
// @fastify/compress (SERVER=tophat|fastify), each with its defaults, serving the same
// three payloads prepared once: /json-1k, /json-100k (application/json) and /text-1m
// (text/plain). The parent asks for this process's CPU time over IPC ("cpu" → cpuUsage):
// process-wide, so zlib's work on libuv's thread pool counts too.
import { payloads } from "./compress-payloads.js";

const which = process.env.SERVER;
let port;
if (which === "tophat") {
  const { compress, serve } = await import("tophat");
  const server = await serve(
    compress()(async (req, res) => {
      const p = payloads[req.path];
      if (!p) return res.sendCode(404);
      return res.setHeader("Content-Type", p.type).setBody(p.body).send();
    }),
    { port: 0 },
  );
  port = server.port;
} else if (which === "fastify") {
  const { default: Fastify } = await import("fastify");
  const { default: fastifyCompress } = await import("@fastify/compress");
  const app = Fastify({ logger: false });
  await app.register(fastifyCompress);
  for (const [path, p] of Object.entries(payloads)) app.get(path, async (_req, reply) => reply.type(p.type).send(p.body));
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = app.server.address().port;
} else {
  throw new Error(`SERVER must be tophat or fastify, not ${which}`);
}
process.on("message", (m) => {
  if (m === "cpu") process.send({ cpu: process.cpuUsage() });
});
process.send({ port });
