/**
 * The connection layer: serving HTTP/1.1 on a byte stream.
 * @module
 */
export { accept, type AcceptOptions } from "./accept.js";
export type { ConnectionSummary, Handler } from "./connection.js";
export type { ConnectionOptions, ErrorFormat, Logger } from "./options.js";
export type { TrustProxy } from "./trust-proxy.js";
export type { Connectable, WebStreamPair } from "./transport.js";
export {
  tophatChannels,
  type RequestStartMessage,
  type ResponseHeadMessage,
  type ResponseFinishMessage,
  type RequestErrorMessage,
} from "./diagnostics.js";
