/**
 * WebSockets over a taken-over connection, with the `ws` package.
 * @module
 */
export { websocket, type WebSocketHandler, type WebSocketOptions } from "./websocket.js";
export type { OriginPolicy } from "./handshake.js";
