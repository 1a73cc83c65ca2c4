// The router over real connections: precedence, parameters (typed and decoded), 404/405
// with Allow, HEAD and OPTIONS, mounts, state and middleware.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Glitch, Router, compose, serve, type Handler, type Middleware, type Server } from "../host/index.js";
import { connectTcp, header } from "./support/server-harness.js";

let server: Server;
let base = "";
const events: string[] = [];

const json = (value: unknown) => async (_req: unknown, res: import("../host/index.js").ResponseWriter) => res.setJson(value).send();

interface AppState {
  greeting: string;
}

const admin = new Router({ state: { area: "admin" } })
  .get("/", async (req, res) => res.setJson({ admin: "home", state: req.state.area }).send())
  .get("/users/:id", async (req, res) => res.setJson({ admin: req.params.id, org: (req.params as Record<string, string>)["org"] ?? null }).send());

const orgs = new Router().get("/repos/:repo", async (req, res) => res.setJson({ repo: req.params.repo, org: (req.params as Record<string, string>)["org"] }).send());

const app = new Router<AppState>({ state: { greeting: "hi" } })
  .get("/", json({ route: "root" }))
  .get("/users", json({ route: "users" }))
  .get("/users/", json({ route: "users-slash" }))
  .get("/users/me", json({ route: "me" }))
  .get("/users/:id", async (req, res) => res.setJson({ route: "user", id: req.params.id, greeting: req.state.greeting }).send())
  .post("/users/:id", async (req, res) => res.setJson({ route: "post-user", id: req.params.id }).send())
  .delete("/users/:id", json({ route: "delete-user" }))
  .get("/users/:id/posts/:post", async (req, res) => res.setJson({ id: req.params.id, post: req.params.post }).send())
  .get("/files/*path", async (req, res) => res.setJson({ route: "files", path: req.params.path }).send())
  .get("/files/special", json({ route: "special" }))
  .get("/head-me", async (_req, res) => res.setHeader("X-Got", "get").setText("body of GET").send())
  .put("/only-put", json({ route: "put" }))
  .options("/custom-options", async (_req, res) => res.setHeader("X-Custom", "1").sendCode(200))
  .all("/anything", async (req, res) => res.setJson({ route: "all", method: req.method }).send())
  .get("/caf\u00e9/:word", async (req, res) => res.setJson({ word: req.params.word }).send())
  .get("/throws", async () => {
    throw Glitch.conflict("route threw");
  })
  .mount("/admin", admin)
  .mount("/orgs/:org", orgs);

// Type-level checks (tsc runs over the tests): params come from the pattern.
new Router().get("/a/:x/*rest", async (req, res) => {
  const x: string = req.params.x;
  const rest: string = req.params.rest;
  // @ts-expect-error — no such parameter in the pattern
  void req.params.y;
  return res.setText(x + rest).send();
});
// @ts-expect-error — state must have the router's type
new Router<AppState>({ state: { greeting: 1 } });

const timing: Middleware = (next) => async (req, res) => {
  events.push(`timing in ${req.path}`);
  const written = await next(req, res);
  events.push(`timing out ${written.status}`);
  return written;
};
const auth: Middleware = (next) => async (req, res) => {
  events.push("auth");
  if (req.path.startsWith("/admin") && req.headers.get("authorization") !== "Bearer ok") throw Glitch.unauthorized();
  return next(req, res);
};

beforeAll(async () => {
  const handler: Handler = compose(timing, auth)(app.route);
  server = await serve(handler, { port: 0 });
  base = server.url;
});
afterAll(() => server.close());

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; res: Response }> {
  const res = await fetch(base + path, { headers: { authorization: "Bearer ok" }, ...init });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get("content-type") ?? "").includes("json") && text) body = JSON.parse(text);
  return { status: res.status, body, res };
}

describe("Router", () => {
  it.each([
    ["/", { route: "root" }],
    ["/users", { route: "users" }],
    ["/users/", { route: "users-slash" }],
    ["/users/me", { route: "me" }],
    ["/users/42", { route: "user", id: "42", greeting: "hi" }],
    ["/users/42?me=1", { route: "user", id: "42", greeting: "hi" }],
    ["/users/7/posts/9", { id: "7", post: "9" }],
    ["/files/special", { route: "special" }],
    ["/files/a/b/c.txt", { route: "files", path: "a/b/c.txt" }],
    ["/files/", { route: "files", path: "" }],
    ["/users/a%2Fb", { route: "user", id: "a/b", greeting: "hi" }],
    ["/caf%C3%A9/cr%C3%A8me", { word: "cr\u00e8me" }],
  ])("GET %s", async (path, expected) => {
    const { status, body } = await get(path);
    expect(status).toBe(200);
    expect(body).toEqual(expected);
  });

  it("a route with the request's method beats a more specific one without it", async () => {
    const { body } = await get("/users/me", { method: "POST" });
    expect(body).toEqual({ route: "post-user", id: "me" });
  });

  it("no route → 404", async () => {
    for (const path of ["/nope", "/users/1/posts", "/users//posts/1", "/files"]) expect((await get(path)).status, path).toBe(404);
  });

  it("path matches, method doesn't → 405 with Allow in a stable order", async () => {
    const { status, res } = await get("/users/5", { method: "PUT" });
    expect(status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST, DELETE, OPTIONS");
    const put = await get("/only-put");
    expect(put.status).toBe(405);
    expect(put.res.headers.get("allow")).toBe("PUT, OPTIONS");
  });

  it("HEAD runs the GET route and only the head goes out", async () => {
    const client = await connectTcp(server.port);
    await client.write("HEAD /head-me HTTP/1.1\r\nHost: t\r\n\r\n");
    const [r] = await client.responses(1, { heads: [true] });
    expect(r!.status).toBe(200);
    expect(header(r!, "x-got")).toBe("get");
    expect(header(r!, "content-length")).toBe(String("body of GET".length));
    expect(r!.body.length).toBe(0);
    client.destroy();
  });

  it("OPTIONS without a route → 204 with Allow; with a route → the route; OPTIONS * → every method", async () => {
    const auto = await get("/users/5", { method: "OPTIONS" });
    expect(auto.status).toBe(204);
    expect(auto.res.headers.get("allow")).toBe("GET, HEAD, POST, DELETE, OPTIONS");
    const custom = await get("/custom-options", { method: "OPTIONS" });
    expect([custom.status, custom.res.headers.get("x-custom")]).toEqual([200, "1"]);
    const client = await connectTcp(server.port);
    await client.write("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
    const [r] = await client.responses(1);
    expect(r!.status).toBe(204);
    expect(header(r!, "allow")).toBe("GET, HEAD, POST, PUT, DELETE, OPTIONS");
    client.destroy();
  });

  it(".all answers any method", async () => {
    for (const method of ["GET", "POST", "PATCH", "PROPFIND"]) {
      expect((await get("/anything", { method })).body).toEqual({ route: "all", method });
    }
  });

  it("a malformed percent-escape → 400", async () => {
    const { status, body } = await get("/users/%E0%A4%A");
    expect(status).toBe(400);
    expect(body).toContain("malformed percent-encoding");
  });

  it("a Glitch from a route becomes its response", async () => {
    expect(await get("/throws")).toMatchObject({ status: 409, body: "route threw\n" });
  });

  it("mounted routers: prefix removed, their own state, the prefix's params", async () => {
    expect((await get("/admin")).body).toEqual({ admin: "home", state: "admin" });
    expect((await get("/admin/")).body).toEqual({ admin: "home", state: "admin" });
    expect((await get("/admin/users/3")).body).toEqual({ admin: "3", org: null });
    expect((await get("/orgs/acme/repos/tophat")).body).toEqual({ repo: "tophat", org: "acme" });
    expect((await get("/admin/nope")).status).toBe(404);
  });

  it("middleware composes outermost first and sees the response after it was written", async () => {
    events.length = 0;
    expect((await get("/users/1")).status).toBe(200);
    expect(events).toEqual(["timing in /users/1", "auth", "timing out 200"]);
    events.length = 0;
    expect((await get("/admin", { headers: {} })).status).toBe(401);
    // The Glitch passed through timing: its response was written by the library.
    expect(events).toEqual(["timing in /admin", "auth"]);
  });
});

describe("Router registration errors name the pattern", () => {
  it.each([
    [() => new Router().get("/a", json(1)).get("/a", json(2)), /GET \/a is already registered/],
    [() => new Router().get("/a/:x", json(1)).get("/a/:y/b", json(2)), /route \/a\/:y\/b: the parameter here is already named :x/],
    [() => new Router().get("/a/*x/b", json(1)), /catch-all \(\*name\) must be the last segment/],
    [() => new Router().get("a", json(1)), /starts with \//],
    [() => new Router().get("/a//b", json(1)), /empty segment/],
    [() => new Router().get("/a/:", json(1)), /needs a name/],
    [() => new Router().get("/a/b:c", json(1)), /may only start a segment/],
    [() => new Router().get("/a?x", json(1)), /without \? or #/],
    [() => new Router().on("BAD METHOD", "/a", json(1)), /is not a method/],
    [() => new Router().mount("/x/", new Router()), /trailing \//],
    [
      () => {
        const a = new Router();
        return a.mount("/self", a);
      },
      /a cycle/,
    ],
    [
      () => {
        const a = new Router();
        const b = new Router().mount("/a", a);
        return a.mount("/b", b);
      },
      /mount \/b: the router being mounted already contains this one/,
    ],
  ])("%#", (register, message) => {
    expect(register).toThrow(message);
  });
});
