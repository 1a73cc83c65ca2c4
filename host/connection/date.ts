/**
 * The Date field value (IMF-fixdate), formatted once per second: a timer forgets it at
 * the next second's boundary, so a response asks for no clock at all.
 * @module
 */
let cached = "";

export function httpDate(): string {
  if (cached === "") {
    const now = Date.now();
    cached = new Date(now).toUTCString();
    setTimeout(forget, 1000 - (now % 1000)).unref();
  }
  return cached;
}

function forget(): void {
  cached = "";
}
