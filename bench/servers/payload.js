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
