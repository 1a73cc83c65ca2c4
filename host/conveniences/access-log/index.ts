/**
 * The access log.
 * @module
 */
export { accessLog, formatLine, type AccessLogEntry, type AccessLogOptions, type AccessLogSink, type AccessLogConnectionOptions, type StructuredLogger } from "./access-log.js";
