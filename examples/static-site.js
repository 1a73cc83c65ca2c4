// A static site: `node examples/static-site.js`, then open http://127.0.0.1:8080/
// (or `curl -i http://127.0.0.1:8080/style.css`, `curl -r 0-9 …`, `curl -z "<date>" …`).
// Serves examples/static-site/public/ with ETag/Last-Modified revalidation, ranges, index
// files and `.br`/`.gz` siblings when they exist (build them with `gzip -k` / `brotli -k`);
// compress() encodes the rest on the fly (`curl --compressed -i …/planets.json`).
import { fileURLToPath } from "node:url";
import { Router, compress, serve, serveStatic } from "tophat";

const root = fileURLToPath(new URL("./static-site/public/", import.meta.url));

const site = new Router()
  .get("/healthz", async (_req, res) => res.setText("ok\n").send())
  // Everything else is a file under public/ (HEAD runs it too; other methods get 405).
  .get("/*path", serveStatic(root, { maxAge: 60, precompressed: true }));

// Files without a precompressed sibling are compressed on the fly (br or gzip, as the
// client accepts) when they are text and over 1 KiB; a sibling is sent as it is (it
// already has its Content-Encoding), and so are ranges (206).
const server = await serve(compress()(site.route), { port: Number(process.env.PORT ?? 8080) });
console.log(`static site on ${server.url}/`);
process.once("SIGINT", () => void server.close({ graceMs: 1_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 1_000 }));
