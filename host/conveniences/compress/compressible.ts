/**
 * Which media types are worth compressing, from mime-db's `compressible` flag.
 * @module
 */
import { createRequire } from "node:module";

/** The part of a mime-db entry used here. */
interface MimeEntry {
  compressible?: boolean;
}

// mime-db is JSON (mime-types' own database, also a direct dependency); `require` reads it
// without an import attribute, which Node 20.19 and TypeScript both accept.
const db = createRequire(import.meta.url)("mime-db") as Readonly<Record<string, MimeEntry | undefined>>;

/**
 * Whether a body of `contentType` is worth compressing. mime-db's flag when it has one
 * (image/png, video/*, audio/mpeg, application/zip, application/gzip… are false;
 * text/html, application/json, image/svg+xml… true); otherwise text/* and the +json,
 * +xml and +text suffixes. Unknown types are left alone (font/woff2 is already compressed;
 * guessing wastes CPU), and so is `application/octet-stream`, which mime-db marks
 * compressible but which names bytes of any kind. No Content-Type: not compressed.
 */
export function isCompressibleType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const essence = contentType.split(";", 1)[0]!.trim().toLowerCase();
  if (essence === "application/octet-stream") return false;
  const flag = db[essence]?.compressible;
  if (flag !== undefined) return flag;
  return essence.startsWith("text/") || /\+(?:json|xml|text)$/.test(essence);
}
