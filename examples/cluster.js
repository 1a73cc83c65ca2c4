// One server per core: `node examples/cluster.js` (WORKERS=n to choose how many), then
// `curl http://127.0.0.1:8080/` a few times to see different workers answer.
// `kill -HUP <primary pid>` replaces every worker, one at a time, without dropping a
// request; Ctrl-C (or SIGTERM) stops them all gracefully.
import { runCluster, serve } from "tophat";

const node = await runCluster({
  workers: process.env.WORKERS ? Number(process.env.WORKERS) : undefined,
  graceMs: 5_000,
  start: () =>
    serve(
      async (req, res) => {
        // For the demo (and its test): a worker that crashes is replaced, and a slow
        // request in flight when the cluster stops still gets its answer.
        if (req.path === "/crash") setImmediate(() => process.exit(1));
        if (req.path === "/slow") await new Promise((resolve) => setTimeout(resolve, 500));
        return res.setJson({ pid: process.pid }).send();
      },
      { port: Number(process.env.PORT ?? 8080) },
    ),
  logger: { info: (m) => console.log(m), warn: console.warn, error: console.error },
});
if (node.role === "primary") console.log(`cluster of ${node.pids().length} workers (primary ${process.pid}) on ${node.url}/`);
