// The payloads of `npm run bench:compress`, the same bytes for every server: JSON the way
// APIs produce it (repeated keys, varied values) at ~1 KB and ~100 KB, and ~1 MB of
// English-like text. Deterministic (a fixed-seed generator), so runs compare.
let seed = 42;
// mulberry32: 32-bit integer arithmetic (Math.imul), so no float precision shortens its period.
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const WORDS = "the of and to in is that it was for on are as with his they at be this from have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know".split(" ");

function json(bytes) {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < bytes; i++) {
    items.push({ id: 1000 + i, name: `${WORDS[Math.floor(rand() * WORDS.length)]} ${WORDS[Math.floor(rand() * WORDS.length)]}`, price: Math.round(rand() * 100_000) / 100, inStock: rand() < 0.5, tags: [WORDS[Math.floor(rand() * WORDS.length)]] });
  }
  return Buffer.from(JSON.stringify(items));
}

function text(bytes) {
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const sentence = `${Array.from({ length: 6 + Math.floor(rand() * 12) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ")}. `;
    parts.push(sentence);
    size += sentence.length;
  }
  return Buffer.from(parts.join(""));
}

/** Path → body and Content-Type. */
export const payloads = {
  "/json-1k": { type: "application/json", body: json(1024) },
  "/json-100k": { type: "application/json", body: json(100 * 1024) },
  "/text-1m": { type: "text/plain; charset=utf-8", body: text(1024 * 1024) },
};
