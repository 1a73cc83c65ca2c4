// The responses every benchmarked server sends, and what each scenario asks of it.
import { readFileSync } from "node:fs";

export const HELLO = "Hello, World!";

/** The `download` scenario's body: 1 MiB, prepared once (what's measured is moving it, not making it). */
export const DOWNLOAD = Buffer.alloc(1024 * 1024, "x");

/** A ~1 KB JSON document. */
export const JSON_DOC = {
  id: 12345,
  name: "Tophat benchmark",
  tags: ["http", "wasm", "typescript", "server", "benchmark"],
  items: Array.from({ length: 12 }, (_, i) => ({ id: i, title: `item number ${i}`, done: i % 2 === 0, score: i * 3.5 })),
};

/** hello | json | tls (hello world over TLS) | download (1 MiB) | upload (count the body's bytes, answer the count). */
export const scenario = process.env.SCENARIO ?? "hello";

/** The key and certificate the parent generated for this run (files named by TLS_KEY, TLS_CERT). */
export function tlsFiles() {
  return { key: readFileSync(process.env.TLS_KEY), cert: readFileSync(process.env.TLS_CERT) };
}
export const port = Number(process.env.PORT ?? 0);

// Exit on the bench's SIGTERM rather than die of it, so a server run under --cpu-prof
// (PROFILE=) writes its profile.
process.on("SIGTERM", () => process.exit(0));

export function ready(p) {
  console.log(`listening ${p}`);
}

/**
 * The raw floor's reply for a scenario, prepared once: what every server sends, without
 * building it per request (see raw-floor.js).
 */
export function fixedReply(which) {
  const body = which === "json" ? Buffer.from(JSON.stringify(JSON_DOC)) : which === "download" ? DOWNLOAD : Buffer.from(HELLO);
  const type = which === "json" ? "application/json" : which === "download" ? "application/octet-stream" : "text/plain; charset=utf-8";
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\n\r\n`), body]);
}

/** What the raw floor writes for a chunk: `reply` once per request head in it (no parsing), or null. */
export function repliesFor(chunk, reply) {
  let heads = 0;
  for (let i = chunk.indexOf("\r\n\r\n"); i !== -1; i = chunk.indexOf("\r\n\r\n", i + 4)) heads++;
  if (heads === 0) return null;
  return heads === 1 ? reply : Buffer.concat(Array.from({ length: heads }, () => reply));
}
