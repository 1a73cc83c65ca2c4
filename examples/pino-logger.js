// Tophat's logs through pino: `node examples/pino-logger.js`, then
//   curl -i http://127.0.0.1:8080/hello      → an access-log line at info
//   curl -i http://127.0.0.1:8080/broken     → a 500, and the handler's error at error level (with its stack under err)
//   curl -m 0.2 http://127.0.0.1:8080/slow   → the client leaves: client-closed at info, nothing at error
// Every line is pino's JSON on stdout.
import pino from "pino";
import { accessLog, serve, structuredLogger } from "tophat";

const log = pino({ level: process.env.LOG_LEVEL ?? "info" });

const app = async (req, res) => {
  if (req.path === "/broken") throw new Error("the database is on fire");
  if (req.path === "/slow") {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return res.setText("finally\n").send();
  }
  return res.setText("hello\n").send();
};

const server = await serve(app, {
  port: Number(process.env.PORT ?? 8080),
  // One access-log line per response (pino's info, the entry as fields)…
  ...accessLog({ sink: log }),
  // …and the library's own events at their levels (error, warn, debug), errors under `err`.
  logger: structuredLogger(log),
});
log.info(`pino example on ${server.url}/`);

process.once("SIGINT", () => void server.close({ graceMs: 5_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 5_000 }));
