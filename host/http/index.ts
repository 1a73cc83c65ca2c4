/**
 * Request and header views over the bytes a request arrived in.
 * @module
 */
export { Headers } from "./headers.js";
export { RequestHeadView } from "./request-head.js";
