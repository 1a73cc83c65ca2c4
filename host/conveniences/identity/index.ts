/**
 * Identity (a signed JWT in a cookie) and cookies.
 * @module
 */
export { identity, type Identity, type IdentityKey, type IdentityOptions, type IdentityFailure, type User, type Verification, type WithUser } from "./identity.js";
export { clearCookie, getCookie, getCookies, parseCookieFields, serializeCookie, setCookie, type CookieAttributes } from "./cookies.js";
