/**
 * The Date field value (IMF-fixdate), formatted at most once per second.
 * @module
 */
let cached = "";
let cachedSecond = -1;

export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cached = new Date(second * 1000).toUTCString();
  }
  return cached;
}
