/**
 * CORS middleware.
 * @module
 */
export { cors, type CorsOptions, type CorsOrigin } from "./cors.js";
