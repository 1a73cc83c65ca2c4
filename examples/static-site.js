// A static site: `node examples/static-site.js`, then open http://127.0.0.1:8080/
// (or `curl -i http://127.0.0.1:8080/style.css`, `curl -r 0-9 …`, `curl -z "<date>" …`).
// Serves examples/static-site/public/ with ETag/Last-Modified revalidation, ranges, index
// files and `.br`/`.gz` siblings when they exist (build them with `gzip -k` / `brotli -k`).
import { fileURLToPath } from "node:url";
import { Router, serve, serveStatic } from "tophat";

const root = fileURLToPath(new URL("./static-site/public/", import.meta.url));

const site = new Router()
  .get("/healthz", async (_req, res) => res.setText("ok\n").send())
  // Everything else is a file under public/ (HEAD runs it too; other methods get 405).
  .get("/*path", serveStatic(root, { maxAge: 60, precompressed: true }));

// Compression of files without a precompressed sibling goes here, once the compress()
// middleware of issue 11 exists: `serve(compress()(site.route), …)`. Until then responses
// are compressed only when a `.br`/`.gz` sibling is on disk.
const server = await serve(site.route, { port: Number(process.env.PORT ?? 8080) });
console.log(`static site on ${server.url}/`);
process.once("SIGINT", () => void server.close({ graceMs: 1_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 1_000 }));
