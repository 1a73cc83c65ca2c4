/**
 * The access log.
 * @module
 */
export { accessLog, formatLine, type AccessLogEntry, type AccessLogOptions, type AccessLogSink, type AccessLogConnectionOptions } from "./access-log.js";
