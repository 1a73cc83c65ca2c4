// The two responses every benchmarked server sends.
export const HELLO = "Hello, World!";

/** A ~1 KB JSON document. */
export const JSON_DOC = {
  id: 12345,
  name: "Tophat benchmark",
  tags: ["http", "wasm", "typescript", "server", "benchmark"],
  items: Array.from({ length: 12 }, (_, i) => ({ id: i, title: `item number ${i}`, done: i % 2 === 0, score: i * 3.5 })),
};

export const scenario = process.env.SCENARIO === "json" ? "json" : "hello";
export const port = Number(process.env.PORT ?? 0);

export function ready(p) {
  console.log(`listening ${p}`);
}

/**
 * The raw floor's reply for a scenario, prepared once: what every server sends, without
 * building it per request (see raw-floor.js).
 */
export function fixedReply(which) {
  const body = which === "json" ? JSON.stringify(JSON_DOC) : HELLO;
  const type = which === "json" ? "application/json" : "text/plain; charset=utf-8";
  return Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}`);
}

/** What the raw floor writes for a chunk: `reply` once per request head in it (no parsing), or null. */
export function repliesFor(chunk, reply) {
  let heads = 0;
  for (let i = chunk.indexOf("\r\n\r\n"); i !== -1; i = chunk.indexOf("\r\n\r\n", i + 4)) heads++;
  if (heads === 0) return null;
  return heads === 1 ? reply : Buffer.concat(Array.from({ length: heads }, () => reply));
}
