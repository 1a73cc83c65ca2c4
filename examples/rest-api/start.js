// Starts the REST API example with a store, as both server.js (in-memory) and
// server-postgres.js (PostgreSQL) do: env configuration, access log, graceful stop, and
// with TRACES=1 OpenTelemetry traces.
import { randomBytes } from "node:crypto";
import { accessLog, serve } from "tophat";
import { createApp } from "./app.js";

/** Serves the app over `store` on PORT (default 8080) until SIGINT/SIGTERM. */
export async function start(store, name) {
  const app = createApp({
    store,
    key: process.env.SESSION_KEY ?? randomBytes(32).toString("base64url"),
    corsOrigins: (process.env.CORS_ORIGINS ?? "http://localhost:5173").split(",").map((o) => o.trim()),
    // Browsers keep Secure cookies from http://localhost and http://127.0.0.1 too; curl
    // doesn't send them over plain HTTP, so this demo turns Secure off unless asked.
    secureCookies: process.env.SECURE_COOKIES === "1",
  });
  // TRACES=1: an OpenTelemetry span per request, printed (see tracing.js); loaded only then.
  const handler = process.env.TRACES === "1" ? (await import("./tracing.js")).traced(app) : app;
  const server = await serve(handler, { port: Number(process.env.PORT ?? 8080), ...accessLog() });
  console.log(`${name} on ${server.url}/`);
  const stop = async () => {
    await server.close({ graceMs: 5_000 });
    await store.close();
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}
