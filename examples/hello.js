// Hello world: `node examples/hello.js`, then `curl -i http://127.0.0.1:8080/`.
import { serve } from "tophat";

const server = await serve(async (_req, res) => res.setText("Hello, world!\n").send(), {
  port: Number(process.env.PORT ?? 8080),
});
console.log(`hello world on ${server.url}/`);

// Ctrl-C: stop accepting, let in-flight requests finish (up to 5 s), then exit.
process.once("SIGINT", () => void server.close({ graceMs: 5_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 5_000 }));
