/**
 * The Date field value (IMF-fixdate), formatted at most once per second.
 * @module
 */
let cached = "";
/** When the cached value stops being the current second (ms since the epoch). */
let nextSecondAt = 0;

export function httpDate(): string {
  const now = Date.now();
  if (now >= nextSecondAt) {
    const second = now - (now % 1000);
    cached = new Date(second).toUTCString();
    nextSecondAt = second + 1000;
  }
  return cached;
}
