/**
 * Logging: the library's events through a pino-style logger.
 * @module
 */
export { structuredLogger, type StructuredLogger } from "./structured-logger.js";
