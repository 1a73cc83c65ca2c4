// Cookies per RFC 6265 over real connections: several pairs and several Cookie lines, quoted
// values, malformed pairs skipped, first wins; Set-Cookie byte-exact with its attributes,
// and refusals that name the cookie.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearCookie, getCookies, serializeCookie, serve, setCookie, type Server } from "../host/index.js";
import { connectTcp, headerAll } from "./support/server-harness.js";

let server: Server;
beforeAll(async () => {
  server = await serve(
    async (req, res) => {
      if (req.path === "/set") {
        setCookie(res, "a", "1", { httpOnly: true, sameSite: "Strict", maxAge: 60 });
        setCookie(res, "b", '"quoted"', { secure: true, sameSite: "None", partitioned: true, domain: "example.com", path: "/app", expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) });
        clearCookie(res, "old");
        return res.sendCode(204);
      }
      return res.setJson(Object.fromEntries(getCookies(req))).send();
    },
    { port: 0 },
  );
});
afterAll(() => server.close());

async function cookiesFor(...lines: string[]): Promise<Record<string, string>> {
  const client = await connectTcp(server.port);
  await client.write(`GET / HTTP/1.1\r\nHost: t\r\n${lines.map((l) => `Cookie: ${l}\r\n`).join("")}\r\n`);
  const [r] = await client.responses(1);
  client.destroy();
  return JSON.parse(r!.body.toString()) as Record<string, string>;
}

describe("reading cookies", () => {
  it("several pairs in one field, and several fields", async () => {
    expect(await cookiesFor("a=1; b=2", "c=3")).toEqual({ a: "1", b: "2", c: "3" });
  });

  it("quoted values lose their quotes; empty values are kept; '=' inside a value stays", async () => {
    expect(await cookiesFor('q="hello"; e=; tok=abc==; eq="="')).toEqual({ q: "hello", e: "", tok: "abc==", eq: "=" });
  });

  it("malformed pairs are skipped, the rest kept", async () => {
    const parsed = await cookiesFor('noequals; bad name=1; ok=1; sp=a b; semi="x;y"; bs=a\\b; good=2');
    expect(parsed).toEqual({ ok: "1", good: "2" });
  });

  it("the first of a repeated name wins", async () => {
    expect(await cookiesFor("id=first; id=second", "id=third")).toEqual({ id: "first" });
  });

  it("fetch's cookie header round-trips", async () => {
    const res = await fetch(server.url, { headers: { cookie: "x=1; y=two" } });
    expect(await res.json()).toEqual({ x: "1", y: "two" });
  });
});

describe("Set-Cookie", () => {
  it("every attribute, byte-exact, one field line per cookie", async () => {
    const client = await connectTcp(server.port);
    await client.write("GET /set HTTP/1.1\r\nHost: t\r\n\r\n");
    const [r] = await client.responses(1);
    client.destroy();
    expect(headerAll(r!, "set-cookie")).toEqual([
      "a=1; Max-Age=60; Path=/; HttpOnly; SameSite=Strict",
      'b="quoted"; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=example.com; Path=/app; Secure; SameSite=None; Partitioned',
      "old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
    ]);
  });

  it.each([
    [() => serializeCookie("bad name", "v"), /cookie name "bad name" is not a token/],
    [() => serializeCookie("c", "a;b"), /cookie c: the value may only hold/],
    [() => serializeCookie("c", "a b"), /cookie c: the value/],
    [() => serializeCookie("c", "a,b"), /cookie c: the value/],
    [() => serializeCookie("c", "é"), /cookie c: the value/],
    [() => serializeCookie("c", "v\r\nX: y"), /cookie c: the value/],
    [() => serializeCookie("c", "v", { sameSite: "None" }), /cookie c: SameSite=None needs Secure/],
    [() => serializeCookie("c", "v", { partitioned: true }), /cookie c: Partitioned needs Secure/],
    [() => serializeCookie("c", "v", { path: "/a;Domain=evil" }), /cookie c: path "\/a;Domain=evil"/],
    [() => serializeCookie("c", "v", { domain: "a\nb" }), /cookie c: domain/],
    [() => serializeCookie("c", "v", { maxAge: 1.5 }), /cookie c: maxAge must be whole seconds/],
    [() => serializeCookie("c", "v", { expires: new Date("nope") }), /cookie c: expires is an invalid Date/],
    [() => serializeCookie("c", "x".repeat(5000)), /cookie c is \d+ bytes; browsers drop cookies over 4096/],
  ])("refuses %#", (make, message) => {
    expect(make).toThrow(message);
  });
});
