/**
 * Identity: who the client is, as a signed JWT (HS256) in an HttpOnly cookie.
 * @module
 */
import { SignJWT, errors, jwtVerify, type JWTPayload } from "jose";
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { Middleware } from "../router/middleware.js";
import { clearCookie, getCookie, serializeCookie, setCookie, type CookieAttributes } from "./cookies.js";

/** A secret for HS256: at least 32 bytes (a string counts its UTF-8 bytes). */
export type IdentityKey = string | Uint8Array;

/** Options of {@link identity}: the signing key, the cookie's name and attributes, and the token's claims checks. */
export interface IdentityOptions {
  /** The signing key, or `[current, ...older]`: tokens are signed with the first and verified with any (key rotation). */
  key: IdentityKey | readonly IdentityKey[];
  /** The cookie's name (a token). Default `tophat_identity`. */
  cookieName?: string;
  /** Default true. Browsers keep Secure cookies from http://localhost and http://127.0.0.1 too. */
  secure?: boolean;
  /** Default true: scripts can't read the token. */
  httpOnly?: boolean;
  /** Which cross-site requests carry the cookie (`None` needs `secure`, or `identity()` throws). Default `Lax`: top-level navigations only. */
  sameSite?: "Strict" | "Lax" | "None";
  /** Seconds the cookie and the token live (whole seconds > 0, or `identity()` throws); there is no sliding renewal. Default 7 days. */
  maxAge?: number;
  /** The cookie's Path: the cookie is sent for it and everything below. Default `/`. */
  path?: string;
  /** The cookie's Domain, to share it with that domain's subdomains. Default: none (a host-only cookie). */
  domain?: string;
  /** Set as `iss` and required on verification (a token from another issuer fails with `wrong-issuer`). Default: not set, not checked. */
  issuer?: string;
  /** Set as `aud` and required on verification (otherwise `wrong-audience`). Default: not set, not checked. */
  audience?: string;
  /** Seconds of clock skew tolerated for exp and nbf. Default 0. */
  clockToleranceSeconds?: number;
}

/** A verified user. */
export interface User {
  /** The `sub` claim. */
  subject: string;
  /** Every claim of the token (the registered ones included). */
  claims: JWTPayload;
  /** When the token expires (its `exp` claim): `maxAge` seconds after `setUser`; from then on it no longer verifies. */
  expiresAt: Date;
}

/**
 * Why there is no user: no cookie (`absent`), a token that isn't a JWT (`malformed`), signed
 * with none of the keys (`bad-signature`), past its `exp` (`expired`), before its `nbf`
 * (`not-yet-valid`), from another issuer or for another audience (`wrong-issuer`,
 * `wrong-audience`), or otherwise unacceptable (`invalid`: no `sub` or `exp`, another algorithm, …).
 */
export type IdentityFailure = "absent" | "malformed" | "bad-signature" | "expired" | "not-yet-valid" | "wrong-issuer" | "wrong-audience" | "invalid";

/**
 * A failed verification: why, and the details.
 * @inline
 */
type Failure = {
  /** No user. */
  ok: false;
  /** Why there is no user. */
  reason: IdentityFailure;
  /** What went wrong, for logs (jose's message); not meant for the client. */
  message: string;
};

/** The outcome of {@link Identity.verify}: the verified user, or why there is none. */
export type Verification =
  | {
      /** The token verified. */
      ok: true;
      /** The user it names. */
      user: User;
    }
  | Failure;

/** What {@link Identity.required} adds to a request: the verified user. */
export interface WithUser {
  /** The user whose token verified. */
  readonly user: User;
}

/** Claims `setUser` sets itself. */
const REGISTERED = ["sub", "exp", "iat", "nbf", "iss", "aud", "jti"];

/** The identity helpers, bound to one configuration. */
export interface Identity {
  /** Signs a token for `subject` (with extra `claims`) and sets the cookie on `res`. */
  setUser(res: ResponseWriter, subject: string, claims?: Record<string, unknown>): Promise<void>;
  /** Expires the cookie. */
  forget(res: ResponseWriter): void;
  /** The verified user, or undefined when the cookie is absent or its token doesn't verify. */
  user(req: Request): Promise<User | undefined>;
  /** Like {@link user}, with the reason when there is none. Never throws for a bad token. */
  verify(req: Request): Promise<Verification>;
  /**
   * Middleware: 401 (Glitch) unless the request has a verified user, whom it adds to the
   * request as `req.user` (typed, non-optional, in a route's handler after it).
   *
   * ```ts
   * router.get("/me", auth.required(), async (req, res) => res.setJson({ name: req.user.subject }).send());
   * const privateArea = auth.required()(adminRouter.route);   // around a whole router
   * ```
   */
  required(): Middleware<Request, WithUser>;
}

/**
 * Identity in a cookie: `setUser` at login, `forget` at logout, `user(req)` on every
 * request. The token is an HS256 JWT made and checked by `jose` (signature, exp, nbf, iss,
 * aud; only HS256 is accepted, so `alg: none` and algorithm swaps are refused).
 *
 * ```ts
 * const auth = identity({ key: process.env.SESSION_KEY!, issuer: "my-app" });
 * router.post("/login", async (req, res) => { …; await auth.setUser(res, name); return res.sendCode(204); });
 * router.get("/me", async (req, res) => res.setJson((await auth.user(req)) ?? null).send());
 * ```
 */
export function identity(options: IdentityOptions): Identity {
  const keys = (Array.isArray(options.key) ? options.key : [options.key]).map(keyBytes) as Uint8Array[];
  if (keys.length === 0) throw new TypeError("identity: key needs at least one key");
  const cookieName = options.cookieName ?? "tophat_identity";
  const maxAge = options.maxAge ?? 7 * 24 * 60 * 60;
  if (!Number.isInteger(maxAge) || maxAge <= 0) throw new RangeError(`identity: maxAge must be whole seconds > 0, got ${maxAge}`);
  const cookie: CookieAttributes = {
    path: options.path ?? "/",
    secure: options.secure ?? true,
    httpOnly: options.httpOnly ?? true,
    sameSite: options.sameSite ?? "Lax",
    ...(options.domain === undefined ? {} : { domain: options.domain }),
  };
  // Fail at start-up, not at the first login, on a bad name or attribute combination.
  serializeCookie(cookieName, "", cookie);
  const verifyOptions = {
    algorithms: ["HS256"],
    clockTolerance: options.clockToleranceSeconds ?? 0,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };

  async function verify(req: Request): Promise<Verification> {
    const token = getCookie(req, cookieName);
    if (token === undefined || token === "") return { ok: false, reason: "absent", message: `no ${cookieName} cookie` };
    let failure: Failure = { ok: false, reason: "invalid", message: "no key to verify with" };
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key, verifyOptions);
        if (typeof payload.sub !== "string" || typeof payload.exp !== "number") {
          return { ok: false, reason: "invalid", message: "the token has no subject or expiry" };
        }
        return { ok: true, user: { subject: payload.sub, claims: payload, expiresAt: new Date(payload.exp * 1000) } };
      } catch (error) {
        const f = classify(error);
        // Only a signature mismatch can be another key's token; anything else is final.
        if (f.reason !== "bad-signature") return f;
        failure = f;
      }
    }
    return failure;
  }

  return {
    async setUser(res, subject, claims = {}) {
      if (typeof subject !== "string" || subject === "") throw new TypeError("identity.setUser: subject must be a non-empty string");
      const reserved = Object.keys(claims).filter((c) => REGISTERED.includes(c));
      if (reserved.length > 0) throw new TypeError(`identity.setUser: claims can't set ${reserved.join(", ")}; setUser sets them`);
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(subject).setIssuedAt().setExpirationTime(`${maxAge}s`);
      if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
      if (options.audience !== undefined) jwt.setAudience(options.audience);
      setCookie(res, cookieName, await jwt.sign(keys[0]!), { ...cookie, maxAge });
    },
    forget(res) {
      clearCookie(res, cookieName, cookie);
    },
    async user(req) {
      const v = await verify(req);
      return v.ok ? v.user : undefined;
    },
    verify,
    required() {
      return (next) => async (req, res) => {
        const v = await verify(req);
        if (!v.ok) throw Glitch.unauthorized(v.reason === "absent" ? "sign in first" : "your session is invalid or expired; sign in again");
        // The same request object, extended: whatever the route typed on it (params, state) stays.
        return next(Object.assign(req, { user: v.user }), res);
      };
    },
  };
}

function keyBytes(key: IdentityKey): Uint8Array {
  const bytes = typeof key === "string" ? new TextEncoder().encode(key) : key;
  if (!(bytes instanceof Uint8Array)) throw new TypeError("identity: a key is a string or a Uint8Array");
  if (bytes.length < 32) throw new RangeError(`identity: an HS256 key needs at least 32 bytes of secret, got ${bytes.length}`);
  return bytes;
}

function classify(error: unknown): Failure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad-signature", message };
  if (error instanceof errors.JWTExpired) return { ok: false, reason: "expired", message };
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reason = error.claim === "nbf" ? "not-yet-valid" : error.claim === "iss" ? "wrong-issuer" : error.claim === "aud" ? "wrong-audience" : "invalid";
    return { ok: false, reason, message };
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return { ok: false, reason: "malformed", message };
  if (error instanceof errors.JOSEError) return { ok: false, reason: "invalid", message };
  throw error;
}
