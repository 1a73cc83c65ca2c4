// identity(): a signed JWT (HS256) in a cookie, over real connections. Login sets it, the
// next request is authenticated by it; tampered, expired, not-yet-valid, wrong-issuer,
// wrong-audience, alg:none and foreign-key tokens are refused; key rotation; logout.
import { SignJWT, UnsecuredJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { Glitch, identity, serve, type Identity, type IdentityOptions, type Server } from "../host/index.js";

const KEY = "k".repeat(32);
const OLD_KEY = "o".repeat(32);
const OTHER_KEY = "x".repeat(32);
const secret = (k: string): Uint8Array => new TextEncoder().encode(k);

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server with /login?name=, /logout, /me (verify's answer) and /private (required()). */
async function start(options: Partial<IdentityOptions> = {}): Promise<{ url: string; auth: Identity }> {
  const auth = identity({ key: KEY, cookieName: "id", secure: false, issuer: "tophat-test", audience: "api", ...options });
  const guarded = auth.required()(async (_req, res) => res.setText("secret stuff").send());
  server = await serve(
    async (req, res) => {
      switch (req.path) {
        case "/login":
          await auth.setUser(res, req.query.get("name") ?? "ada", { role: "admin" });
          return res.sendCode(204);
        case "/logout":
          auth.forget(res);
          return res.sendCode(204);
        case "/me": {
          const v = await auth.verify(req);
          return res.setJson(v.ok ? { subject: v.user.subject, role: v.user.claims["role"], exp: v.user.expiresAt.getTime() } : { reason: v.reason }).send();
        }
        case "/private":
          return guarded(req, res);
        case "/login-reserved":
          try {
            await auth.setUser(res, "ada", { exp: 1, role: "x" });
            return res.sendCode(204);
          } catch (error) {
            return res.setStatus(500).setText((error as Error).message).send();
          }
        default:
          throw Glitch.notFound();
      }
    },
    { port: 0 },
  );
  return { url: server.url, auth };
}

async function login(url: string, name = "ada"): Promise<{ cookie: string; setCookie: string }> {
  const res = await fetch(`${url}/login?name=${name}`);
  const setCookie = res.headers.get("set-cookie")!;
  return { cookie: setCookie.split(";")[0]!, setCookie };
}

async function me(url: string, cookie?: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/me`, { headers: cookie ? { cookie } : {} })).json()) as Record<string, unknown>;
}

function token(claims: Record<string, unknown>): SignJWT {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("mallory").setIssuer("tophat-test").setAudience("api").setIssuedAt();
}

describe("identity", () => {
  it("login sets an HttpOnly, SameSite=Lax cookie whose token authenticates the next request", async () => {
    const { url } = await start();
    const { cookie, setCookie } = await login(url);
    expect(setCookie).toMatch(/^id=[\w-]+\.[\w-]+\.[\w-]+; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    const body = await me(url, cookie);
    expect(body).toMatchObject({ subject: "ada", role: "admin" });
    expect(Math.abs((body["exp"] as number) - (Date.now() + 604_800_000))).toBeLessThan(5_000);
    const priv = await fetch(`${url}/private`, { headers: { cookie: `other=1; ${cookie}` } });
    expect([priv.status, await priv.text()]).toEqual([200, "secret stuff"]);
  });

  it("without the cookie: absent, and required() answers 401", async () => {
    const { url } = await start();
    expect(await me(url)).toEqual({ reason: "absent" });
    const priv = await fetch(`${url}/private`);
    expect([priv.status, await priv.text()]).toEqual([401, "sign in first\n"]);
  });

  it("a tampered token (payload or signature) is refused", async () => {
    const { url } = await start();
    const { cookie } = await login(url);
    const [name, jwt] = cookie.split("=") as [string, string];
    const [h, p, s] = jwt.split(".") as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: "root" })).toString("base64url");
    expect(await me(url, `${name}=${h}.${forged}.${s}`)).toEqual({ reason: "bad-signature" });
    expect(await me(url, `${name}=${h}.${p}.${s.slice(0, -2)}AA`)).toEqual({ reason: "bad-signature" });
    expect(await me(url, `${name}=not-a-jwt`)).toEqual({ reason: "malformed" });
    const priv = await fetch(`${url}/private`, { headers: { cookie: `${name}=${h}.${forged}.${s}` } });
    expect([priv.status, await priv.text()]).toEqual([401, "your session is invalid or expired; sign in again\n"]);
  });

  it.each([
    ["expired", async () => token({}).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret(KEY))],
    ["not-yet-valid", async () => token({}).setExpirationTime("1h").setNotBefore(Math.floor(Date.now() / 1000) + 600).sign(secret(KEY))],
    ["wrong-issuer", async () => token({}).setExpirationTime("1h").setIssuer("someone-else").sign(secret(KEY))],
    ["wrong-audience", async () => token({}).setExpirationTime("1h").setAudience("other-api").sign(secret(KEY))],
    ["bad-signature", async () => token({}).setExpirationTime("1h").sign(secret(OTHER_KEY))],
    ["invalid", async () => new UnsecuredJWT({ sub: "root", iss: "tophat-test", aud: "api" }).setExpirationTime("1h").encode()],
    ["invalid", async () => new SignJWT({ iss: "tophat-test", aud: "api" }).setProtectedHeader({ alg: "HS512" }).setSubject("root").setExpirationTime("1h").sign(secret("k".repeat(64)))],
  ])("refuses a token that is %s", async (reason, make) => {
    const { url } = await start();
    expect(await me(url, `id=${await make()}`)).toEqual({ reason });
  });

  it("a token without exp is refused (a session must end)", async () => {
    const { url } = await start();
    expect(await me(url, `id=${await token({}).sign(secret(KEY))}`)).toEqual({ reason: "invalid" });
  });

  it("key rotation: the old key's tokens verify while it is listed, not after", async () => {
    const before = await start({ key: OLD_KEY });
    const { cookie } = await login(before.url);
    await server!.close();
    const rotated = await start({ key: [KEY, OLD_KEY] });
    expect(await me(rotated.url, cookie)).toMatchObject({ subject: "ada" });
    // New logins are signed with the first key.
    const fresh = await login(rotated.url, "alan");
    await server!.close();
    const retired = await start({ key: KEY });
    expect(await me(retired.url, cookie)).toEqual({ reason: "bad-signature" });
    expect(await me(retired.url, fresh.cookie)).toMatchObject({ subject: "alan" });
  });

  it("forget expires the cookie", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/logout`);
    expect(res.headers.get("set-cookie")).toBe("id=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax");
  });

  it("Secure by default; clock tolerance lets a just-expired token through", async () => {
    const { url } = await start({ secure: undefined, clockToleranceSeconds: 120 });
    expect((await login(url)).setCookie).toContain("; Secure; ");
    const justExpired = await token({}).setExpirationTime(Math.floor(Date.now() / 1000) - 30).sign(secret(KEY));
    expect(await me(url, `id=${justExpired}`)).toMatchObject({ subject: "mallory" });
  });

  it("refuses weak keys, reserved claims and bad settings with clear errors", async () => {
    expect(() => identity({ key: "short" })).toThrow(/at least 32 bytes of secret, got 5/);
    expect(() => identity({ key: [] })).toThrow(/at least one key/);
    expect(() => identity({ key: KEY, sameSite: "None", secure: false })).toThrow(/SameSite=None needs Secure/);
    expect(() => identity({ key: KEY, cookieName: "a b" })).toThrow(/not a token/);
    expect(() => identity({ key: KEY, maxAge: 0 })).toThrow(/maxAge/);
    const { url } = await start();
    const res = await fetch(`${url}/login-reserved`);
    expect([res.status, await res.text(), res.headers.get("set-cookie")]).toEqual([500, "identity.setUser: claims can't set exp; setUser sets them", null]);
  });
});
