/**
 * Requests, responses and header views.
 * @module
 */
export { Headers } from "./headers.js";
export { Request } from "./request.js";
export type { MultipartField, MultipartFile, MultipartOptions, MultipartPart } from "./body/multipart.js";
export type { ValidationIssue } from "./body/validation.js";
export { ResponseWriter, type BodyStream, type ResponseBody } from "./response-writer.js";
export type { BodyKind, BodyTransform, BodyTransformer, TransformHead, TransformOutput } from "./body-transform.js";
export { ResponseWritten, type ResponseFacts, type ResponseOutcome } from "./response-written.js";
export { UpgradeError, type Upgraded, type UpgradedDuplex, type UpgradedStreams, type UpgradeOptions } from "./upgrade.js";
export { Glitch, orGlitch, ensure, type GlitchOptions, type GlitchStacks } from "./glitch.js";
export { ClientClosedError, HandlerTimeoutError } from "./http-error.js";
export { SseSink, formatEvent, type ServerSentEvent, type SseOptions } from "./server-sent-events.js";
export { statusText } from "./status-text.js";
