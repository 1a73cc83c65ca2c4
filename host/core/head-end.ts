// The host's half of linear incremental feeding (see `parse-head` in wit/tophat.wit): the
// core parses from the start on every call, so a host calls it again only when the bytes
// it has not searched yet may hold the empty line that ends a head.

const LF = 10;
const CR = 13;

/**
 * Whether `bytes` holds `LF CR LF` or `LF LF` starting at or after `from`: the only way
 * a head that `parseHead` found `incomplete` can end (or be refused for a bare LF).
 *
 * After `incomplete`, search from `Math.max(outcome.val, searchedBefore - 2)`, where
 * `searchedBefore` is how many bytes the host held at its previous search, so each byte
 * is looked at a bounded number of times however the head is split.
 */
export function mayEndHead(bytes: Uint8Array, from: number): boolean {
  for (let i = bytes.indexOf(LF, Math.max(0, from)); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    const next = bytes[i + 1];
    if (next === LF || (next === CR && bytes[i + 2] === LF)) return true;
  }
  return false;
}
