// The router's dispatch in process, called through its Handler with stand-in requests:
// precedence (static, parameter, catch-all, method), trailing slashes, encoded segments,
// HEAD → GET, mounts and req.route, how 404/405 come back (a rejected promise, a Glitch
// without a stack) — and a property test holding the walk to a brute-force model of the
// documented rules over random route sets and paths.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Glitch, Router, type Request, type ResponseWriter, type ResponseWritten } from "../host/index.js";

/** What a test handler resolves to: which route ran, with what it saw. */
interface Ran {
  ran: string;
  params: Record<string, string>;
  route: string | undefined;
  state: unknown;
}

function request(method: string, path: string, headers: Record<string, string> = {}): Request {
  const stand = { method, path, params: undefined, state: undefined, route: undefined, headers: { get: (name: string) => headers[name] } };
  return stand as unknown as Request;
}

/** A writer that records `Allow` and resolves `sendCode` to the status. */
function writer(): { res: ResponseWriter; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string) {
      headers[name] = value;
      return res;
    },
    sendCode: async (status: number) => ({ status }),
  };
  return { res: res as unknown as ResponseWriter, headers };
}

const ran =
  (name: string) =>
  async (req: Request): Promise<ResponseWritten> => {
    const seen: Ran = { ran: name, params: req.params as Record<string, string>, route: req.route, state: req.state };
    return seen as unknown as ResponseWritten;
  };

async function dispatch(router: Router<unknown>, method: string, path: string): Promise<Ran | { status: number; allow?: string | undefined }> {
  const { res, headers } = writer();
  try {
    const out = (await router.route(request(method, path), res)) as unknown as Ran | { status: number };
    return "ran" in out ? out : { status: out.status, allow: headers["Allow"] };
  } catch (error) {
    if (!(error instanceof Glitch)) throw error;
    return error.status === 405 ? { status: 405, allow: error.headers["Allow"] } : { status: error.status };
  }
}

describe("router dispatch", () => {
  const router = new Router({ state: "root" })
    .get("/users", ran("users"))
    .get("/users/", ran("users-slash"))
    .get("/users/me", ran("me"))
    .get("/users/:id", ran("user"))
    .get("/users/:id/files/*path", ran("user-files"))
    .get("/files/*path", ran("files"))
    .get("/files/readme", ran("readme"))
    .get("/files/:dir/", ran("dir-slash"))
    .get("/x/me", ran("x-me-get"))
    .all("/x/:id", ran("x-any"))
    .head("/only-head", ran("only-head"))
    .get("/only-head", ran("only-head-get"))
    .put("/put", ran("put"));

  it.each([
    ["/users", "users", {}],
    ["/users/", "users-slash", {}],
    ["/users/me", "me", {}],
    ["/users/42", "user", { id: "42" }],
    ["/users/42/files/", "user-files", { id: "42", path: "" }],
    ["/users/42/files/a/b", "user-files", { id: "42", path: "a/b" }],
    ["/files/readme", "readme", {}],
    // A trailing slash is an empty last segment: static, it beats the catch-all.
    ["/files/readme/", "dir-slash", { dir: "readme" }],
    ["/files/readme/x", "files", { path: "readme/x" }],
    ["/files/a%2Fb/c%20d", "files", { path: "a/b/c d" }],
    // Encoded segments are compared decoded: m%65 is the static "me", once.
    ["/users/m%65", "me", {}],
    ["/users/a%2Fb", "user", { id: "a/b" }],
    ["/users/%2561", "user", { id: "%61" }],
  ])("GET %s → %s", async (path, name, params) => {
    expect(await dispatch(router, "GET", path)).toMatchObject({ ran: name, params });
  });

  it.each(["/nope", "/users//x", "/files", "/users/42/files", "/USERS", ""])("GET %j → 404", async (path) => {
    expect(await dispatch(router, "GET", path)).toEqual({ status: 404 });
  });

  it("a route for the method beats a more specific one without it, HEAD included", async () => {
    expect(await dispatch(router, "POST", "/x/me")).toMatchObject({ ran: "x-any", params: { id: "me" } });
    // HEAD: a route that takes HEAD anywhere (here `all`) comes before the GET fallback.
    expect(await dispatch(router, "HEAD", "/x/me")).toMatchObject({ ran: "x-any" });
    expect(await dispatch(router, "GET", "/x/me")).toMatchObject({ ran: "x-me-get" });
  });

  it("HEAD runs the GET route unless there is a HEAD route", async () => {
    expect(await dispatch(router, "HEAD", "/users/7")).toMatchObject({ ran: "user", params: { id: "7" } });
    expect(await dispatch(router, "HEAD", "/users/m%65")).toMatchObject({ ran: "me" });
    expect(await dispatch(router, "HEAD", "/only-head")).toMatchObject({ ran: "only-head" });
  });

  it("405 with Allow, automatic OPTIONS, OPTIONS *", async () => {
    expect(await dispatch(router, "DELETE", "/users/7")).toEqual({ status: 405, allow: "GET, HEAD, OPTIONS" });
    expect(await dispatch(router, "GET", "/put")).toEqual({ status: 405, allow: "PUT, OPTIONS" });
    expect(await dispatch(router, "OPTIONS", "/users/m%65")).toEqual({ status: 204, allow: "GET, HEAD, OPTIONS" });
    expect(await dispatch(router, "OPTIONS", "*")).toEqual({ status: 204, allow: "GET, HEAD, PUT, OPTIONS" });
  });

  it("a malformed escape anywhere in the path → 400, even where no route would look", async () => {
    expect(await dispatch(router, "GET", "/users/%E0%A4%A")).toEqual({ status: 400 });
    expect(await dispatch(router, "GET", "/nope/%zz")).toEqual({ status: 400 });
  });

  it("a level with many static children (looked up by name rather than compared in turn) keeps the same rules", async () => {
    const wide = new Router();
    for (let i = 0; i < 40; i++) wide.get(`/r${i}`, ran(`r${i}`)).get(`/r${i}/:id`, ran(`r${i}-id`));
    wide.get("/:other/:id", ran("other"));
    expect(await dispatch(wide, "GET", "/r39")).toMatchObject({ ran: "r39" });
    expect(await dispatch(wide, "GET", "/r7/x")).toMatchObject({ ran: "r7-id", params: { id: "x" } });
    expect(await dispatch(wide, "GET", "/r%37/x")).toMatchObject({ ran: "r7-id", params: { id: "x" } });
    expect(await dispatch(wide, "GET", "/r40/x")).toMatchObject({ ran: "other", params: { other: "r40", id: "x" } });
    expect(await dispatch(wide, "GET", "/r40")).toEqual({ status: 404 });
  });

  it("sets req.route to the pattern, and state", async () => {
    expect(await dispatch(router, "GET", "/users/9/files/x")).toMatchObject({ route: "/users/:id/files/*path", state: "root" });
  });

  it("mounts: prefix params first, the mounted router's state, req.route with the prefixes", async () => {
    const inner = new Router({ state: "inner" }).get("/", ran("inner-root")).get("/items/:item", ran("item")).get("/static", ran("inner-static"));
    const middle = new Router({ state: "middle" }).mount("/in", inner).get("/in/static", ran("middle-static"));
    const outer = new Router({ state: "outer" }).mount("/orgs/:org", middle).mount("/", new Router({ state: "fallback" }).get("/elsewhere", ran("fallback")));
    expect(await dispatch(outer, "GET", "/orgs/acme/in/items/7")).toEqual({ ran: "item", params: { org: "acme", item: "7" }, route: "/orgs/:org/in/items/:item", state: "inner" });
    expect(await dispatch(outer, "GET", "/orgs/acme/in")).toMatchObject({ ran: "inner-root", route: "/orgs/:org/in", state: "inner" });
    expect(await dispatch(outer, "GET", "/orgs/acme/in/")).toMatchObject({ ran: "inner-root", route: "/orgs/:org/in" });
    // The mounting router's own routes under the prefix come first.
    expect(await dispatch(outer, "GET", "/orgs/acme/in/static")).toMatchObject({ ran: "middle-static", route: "/orgs/:org/in/static", state: "middle" });
    expect(await dispatch(outer, "GET", "/elsewhere")).toMatchObject({ ran: "fallback", route: "/elsewhere", state: "fallback" });
    expect(await dispatch(outer, "HEAD", "/orgs/a%62c/in/items/%37")).toMatchObject({ ran: "item", params: { org: "abc", item: "7" } });
    expect(await dispatch(outer, "GET", "/orgs/acme/nope")).toEqual({ status: 404 });
  });

  it("always answers with a promise: 404/405 reject it, a handler's synchronous throw rejects it, a plain value resolves it", async () => {
    const r = new Router()
      .get("/sync-throw", (() => {
        throw Glitch.conflict("sync");
      }) as unknown as () => Promise<ResponseWritten>)
      .get("/plain", (() => 7) as unknown as () => Promise<ResponseWritten>);
    const { res } = writer();
    for (const [path, status] of [["/nope", 404], ["/sync-throw", 409]] as const) {
      const answer = r.route(request("GET", path), res);
      expect(answer).toBeInstanceOf(Promise);
      await expect(answer).rejects.toMatchObject({ status });
    }
    const plain = r.route(request("GET", "/plain"), res);
    expect(plain).toBeInstanceOf(Promise);
    await expect(plain).resolves.toBe(7);
  });

  it("its own 404 and 405 carry no stack trace, whatever Glitch.captureStacks says", async () => {
    const before = Glitch.captureStacks;
    Glitch.captureStacks = "all";
    try {
      const r = new Router().get("/a", ran("a"));
      const { res } = writer();
      const notFound = await r.route(request("GET", "/b"), res).catch((e: unknown) => e);
      const notAllowed = await r.route(request("POST", "/a"), res).catch((e: unknown) => e);
      expect((notFound as Glitch).stack).toBe("Glitch: Not Found");
      expect((notAllowed as Glitch).stack).toBe("Glitch: Method Not Allowed");
    } finally {
      Glitch.captureStacks = before;
    }
  });
});

// ---- The walk against a model -----------------------------------------------------------

type Kind = 0 | 1 | 2; // static, parameter, catch-all: the order in which they are tried

interface ModelRoute {
  method: string;
  pattern: string;
  segments: string[];
}

/** The pattern's match for the decoded segments: its kinds and params, or undefined. */
function modelMatch(route: ModelRoute, segments: string[]): { kinds: Kind[]; params: Record<string, string> } | undefined {
  const kinds: Kind[] = [];
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const p = route.segments[i]!;
    if (p.startsWith("*")) {
      if (i >= segments.length) return undefined;
      kinds.push(2);
      params[p.slice(1)] = segments.slice(i).join("/");
      return { kinds, params };
    }
    if (i >= segments.length) return undefined;
    if (p.startsWith(":")) {
      if (segments[i] === "") return undefined;
      kinds.push(1);
      params[p.slice(1)] = segments[i]!;
    } else {
      if (segments[i] !== p) return undefined;
      kinds.push(0);
    }
  }
  return route.segments.length === segments.length ? { kinds, params } : undefined;
}

function before(a: Kind[], b: Kind[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The documented rules, by brute force: the most specific pattern (static < param < catch-all, segment by segment) with a route that takes the method. */
function model(routes: ModelRoute[], method: string, path: string): Ran | { status: number } {
  let segments: string[];
  try {
    segments = path.slice(1).split("/").map((s) => decodeURIComponent(s));
  } catch {
    return { status: 400 };
  }
  const best = (takes: (r: ModelRoute) => boolean): { route: ModelRoute; params: Record<string, string>; kinds: Kind[] } | undefined => {
    let found: { route: ModelRoute; params: Record<string, string>; kinds: Kind[] } | undefined;
    for (const route of routes) {
      if (!takes(route)) continue;
      const m = modelMatch(route, segments);
      if (m === undefined) continue;
      // Same kinds: the same node, where a route for the method beats one for any method.
      if (found === undefined || before(m.kinds, found.kinds) || (m.kinds.join() === found.kinds.join() && route.method === method)) found = { route, ...m };
    }
    return found;
  };
  const hit = best((r) => r.method === method || r.method === "*") ?? (method === "HEAD" ? best((r) => r.method === "GET") : undefined);
  if (hit !== undefined) return { ran: `${hit.route.method} ${hit.route.pattern}`, params: hit.params, route: hit.route.pattern, state: undefined };
  return { status: best(() => true) === undefined ? 404 : 405 };
}

describe("the walk agrees with the model of the rules", () => {
  const staticSegment = fc.constantFrom("a", "b", "ab", "");
  // Parameter and catch-all names by depth, so no two patterns name the same place differently.
  const pattern = fc
    .tuple(fc.array(fc.oneof(staticSegment, fc.constant(":")), { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([segments, catchAll]) => {
      const named = segments.map((s, i) => (s === ":" ? `:p${i}` : s));
      // An empty segment may only be the last.
      const cut = named.findIndex((s) => s === "");
      const kept = cut === -1 ? named : named.slice(0, cut + 1);
      if (catchAll && kept[kept.length - 1] !== "") kept.push(`*c${kept.length}`);
      return `/${kept.join("/")}`;
    });
  const route = fc.record({ method: fc.constantFrom("GET", "POST", "HEAD", "*"), pattern });
  const pathSegment = fc.constantFrom("a", "b", "ab", "", "%61", "%2F", "a%2Fb", "x", "%zz");
  const path = fc.array(pathSegment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join("/")}`);

  it("for random route sets and requests", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(route, { selector: (r) => `${r.method} ${r.pattern}`, maxLength: 12 }), fc.array(fc.tuple(fc.constantFrom("GET", "POST", "HEAD", "PUT"), path), { minLength: 1, maxLength: 10 }), async (routes, requests) => {
        const router = new Router();
        const modelRoutes: ModelRoute[] = [];
        for (const r of routes) {
          router.on(r.method, r.pattern, ran(`${r.method} ${r.pattern}`));
          modelRoutes.push({ ...r, segments: r.pattern.slice(1).split("/") });
        }
        for (const [method, p] of requests) {
          const got = await dispatch(router, method, p);
          const want = model(modelRoutes, method, p);
          if ("ran" in want) expect(got, `${method} ${p}`).toMatchObject({ ran: want.ran, params: want.params, route: want.route });
          else expect({ status: (got as { status: number }).status }, `${method} ${p}`).toEqual(want);
        }
      }),
      { numRuns: 400 },
    );
  });
});
