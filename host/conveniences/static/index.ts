/**
 * Static files: a folder served with {@link serveStatic}, or one file with {@link sendFile}.
 * @module
 */
export { serveStatic, type ServeStaticOptions } from "./serve-static.js";
export { sendFile, type SendFileOptions } from "./send-file.js";
export type { PrecompressedCoding } from "./negotiate.js";
