// cors() at the header level, over real connections: preflights, actual requests, refusals,
// Vary, credentials, exposed headers, error responses, and option validation.
import { afterEach, describe, expect, it } from "vitest";
import { Glitch, cors, serve, type CorsOptions, type Handler, type Server } from "../host/index.js";

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const APP = "http://app.example";
const seen: string[] = [];
const api: Handler = async (req, res) => {
  seen.push(`${req.method} ${req.path}`);
  if (req.path === "/fail") throw Glitch.conflict("nope", { headers: { Vary: "Cookie" } });
  if (req.path === "/crash") throw new Error("private");
  return res.setHeader("X-Total", "5").setHeader("X-Secret", "s").setText("data").send();
};

async function start(options: CorsOptions): Promise<Server> {
  seen.length = 0;
  server = await serve(cors(options)(api), { port: 0, logger: { warn: () => undefined, error: () => undefined } });
  return server;
}

function headersOf(res: Response): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([name]) => name.startsWith("access-control-") || name === "vary"));
}

const preflight = (origin: string, method: string, headers?: string): RequestInit => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": method, ...(headers ? { "access-control-request-headers": headers } : {}) },
});

describe("cors() with a list of origins and credentials", () => {
  const options: CorsOptions = { origin: [APP, "http://other.example:8080"], credentials: true, exposeHeaders: ["X-Total"], maxAge: 600, allowHeaders: ["Content-Type", "X-Request-Id"] };

  it("an allowed preflight: 204 with the allow fields, the origin echoed, and the handler not called", async () => {
    const s = await start(options);
    const res = await fetch(`${s.url}/items`, preflight(APP, "PUT", "content-type, X-Request-ID"));
    expect(res.status).toBe(204);
    expect(headersOf(res)).toEqual({
      "access-control-allow-origin": APP,
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
      "access-control-allow-headers": "content-type, x-request-id",
      "access-control-max-age": "600",
      vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    });
    expect(seen).toEqual([]);
  });

  it.each([
    ["an unknown origin", preflight("http://evil.example", "PUT")],
    ["a method not allowed", preflight(APP, "TRACE")],
    ["a header not allowed", preflight(APP, "PUT", "x-forbidden")],
    ["an origin differing in port", preflight("http://app.example:81", "GET")],
  ])("a preflight with %s: 204 without allow fields", async (_what, init) => {
    const s = await start(options);
    const res = await fetch(`${s.url}/items`, init);
    expect(res.status).toBe(204);
    expect(headersOf(res)).toEqual({ vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" });
  });

  it("an allowed actual request: Allow-Origin echoed, credentials, exposed headers, Vary: Origin", async () => {
    const s = await start(options);
    const res = await fetch(`${s.url}/items`, { headers: { origin: APP.toUpperCase() } });
    expect(await res.text()).toBe("data");
    expect(headersOf(res)).toEqual({
      "access-control-allow-origin": APP.toUpperCase(),
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": "X-Total",
      vary: "Origin",
    });
  });

  it("a refused origin: the handler answers, without CORS fields (the browser withholds it), with Vary: Origin", async () => {
    const s = await start(options);
    const res = await fetch(`${s.url}/items`, { headers: { origin: "http://evil.example" } });
    expect(res.status).toBe(200);
    expect(headersOf(res)).toEqual({ vary: "Origin" });
  });

  it("no Origin (not a CORS request): Vary: Origin still, for caches", async () => {
    const s = await start(options);
    const res = await fetch(`${s.url}/items`);
    expect(headersOf(res)).toEqual({ vary: "Origin" });
  });

  it("error responses carry the fields too, and keep their own Vary", async () => {
    const s = await start(options);
    const fail = await fetch(`${s.url}/fail`, { headers: { origin: APP, accept: "application/json" } });
    expect(fail.status).toBe(409);
    expect(headersOf(fail)).toMatchObject({ "access-control-allow-origin": APP, vary: "Cookie, Origin, Accept" });
    const crash = await fetch(`${s.url}/crash`, { headers: { origin: APP } });
    expect(crash.status).toBe(500);
    expect(await crash.text()).toBe("Internal Server Error\n");
    expect(headersOf(crash)["access-control-allow-origin"]).toBe(APP);
  });

  it("OPTIONS without Access-Control-Request-Method is an ordinary request", async () => {
    const s = await start(options);
    await fetch(`${s.url}/items`, { method: "OPTIONS", headers: { origin: APP } });
    expect(seen).toEqual(["OPTIONS /items"]);
  });

  it("the null origin is refused unless listed", async () => {
    const s = await start(options);
    const res = await fetch(`${s.url}/items`, { headers: { origin: "null" } });
    expect(headersOf(res)["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("cors() with any origin, and with a predicate", () => {
  it("'*': Allow-Origin *, no Vary, requested headers reflected", async () => {
    const s = await start({ origin: "*" });
    const res = await fetch(`${s.url}/x`, { headers: { origin: APP } });
    expect(headersOf(res)).toEqual({ "access-control-allow-origin": "*" });
    const pre = await fetch(`${s.url}/x`, preflight("null", "DELETE", "x-anything"));
    expect(headersOf(pre)).toMatchObject({ "access-control-allow-origin": "*", "access-control-allow-headers": "x-anything" });
    expect(headersOf(pre)["access-control-allow-credentials"]).toBeUndefined();
  });

  it("a predicate decides per origin", async () => {
    const s = await start({ origin: (o) => o.endsWith(".trusted.example") });
    const ok = await fetch(`${s.url}/x`, { headers: { origin: "https://a.trusted.example" } });
    expect(headersOf(ok)["access-control-allow-origin"]).toBe("https://a.trusted.example");
    const no = await fetch(`${s.url}/x`, { headers: { origin: "https://trusted.example.evil" } });
    expect(headersOf(no)["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("cors() option validation", () => {
  it.each([
    [{ origin: "*", credentials: true }, /can't be combined with credentials/],
    [{ origin: "https://app.example/path" }, /not an origin .*did you mean "https:\/\/app.example"/],
    [{ origin: "app.example" }, /is not an origin/],
    [{ origin: APP, methods: ["GET POST"] }, /methods has "GET POST", which is not a token/],
    [{ origin: APP, maxAge: -1 }, /maxAge/],
  ] as [CorsOptions, RegExp][])("%j", (options, message) => {
    expect(() => cors(options)).toThrow(message);
  });
});
