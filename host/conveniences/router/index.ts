/**
 * The router and middleware composition.
 * @module
 */
export { Router, type RoutedRequest, type RouteHandler } from "./router.js";
export { compose, type Middleware } from "./middleware.js";
export type { PathParams } from "./path-params.js";
