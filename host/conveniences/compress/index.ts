/**
 * Response compression: {@link compress}.
 * @module
 */
export { compress, type CompressOptions } from "./compress.js";
export { negotiateCoding, type CompressCoding } from "./negotiate.js";
export { isCompressibleType } from "./compressible.js";
