// Per-route middleware: typed (tsc checks the first half of this file: params and state
// survive a middleware, its additions are typed in the handler, a wrong param name, a
// property no middleware added and a middleware that doesn't fit the route are errors),
// and at run time over real connections (order, short-circuits, throws, params, mounts,
// identity's required() and cors() on single routes, preflights).
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  Glitch,
  Router,
  compose,
  cors,
  identity,
  serve,
  type Handler,
  type Middleware,
  type PlainMiddleware,
  type Request,
  type RoutedRequest,
  type Server,
  type User,
  type WithUser,
} from "../host/index.js";

// ---- Types -----------------------------------------------------------------------------

interface AppState {
  db: Map<string, { name: string }>;
}
interface Account {
  name: string;
}

const auth = identity({ key: "k".repeat(32), cookieName: "id", secure: false });

/** Needs the route's `:id` and the app's state; adds the account it loads. */
const loadAccount: Middleware<RoutedRequest<{ id: string }, AppState>, { account: Account }> = (next) => async (req, res) => {
  const account = req.state.db.get(req.params.id);
  if (account === undefined) throw Glitch.notFound(`no account ${req.params.id}`);
  return next(Object.assign(req, { account }), res);
};

/** Needs a signed-in user (what auth.required() adds); adds nothing. */
const adminsOnly: Middleware<Request & WithUser> = (next) => async (req, res) => {
  if (req.user.claims["role"] !== "admin") throw Glitch.forbidden("admins only");
  return next(req, res);
};

/** Adds a request id; fits any request. */
const requestId: Middleware<Request, { requestId: string }> = (next) => async (req, res) =>
  next(Object.assign(req, { requestId: req.headers.get("x-request-id") ?? "none" }), res);

export const typed = new Router<AppState>({ state: { db: new Map() } })
  .get("/users/:id", auth.required(), async (req, res) => {
    expectTypeOf(req.params.id).toEqualTypeOf<string>();
    expectTypeOf(req.user).toEqualTypeOf<User>();
    expectTypeOf(req.state).toEqualTypeOf<AppState>();
    // @ts-expect-error — the pattern has :id, not :idd
    void req.params.idd;
    return res.setJson({ id: req.params.id, by: req.user.subject }).send();
  })
  // A chain: each middleware's additions reach the next ones and the handler.
  .get("/accounts/:id", requestId, auth.required(), adminsOnly, loadAccount, async (req, res) => {
    expectTypeOf(req.account).toEqualTypeOf<Account>();
    expectTypeOf(req.requestId).toEqualTypeOf<string>();
    expectTypeOf(req.user).toEqualTypeOf<User>();
    // @ts-expect-error — no middleware of this route added `session`
    void req.session;
    return res.setJson(req.account).send();
  })
  // A route without middleware sees nothing of another route's.
  .get("/plain/:id", async (req, res) => {
    // @ts-expect-error — this route has no auth.required()
    void req.user;
    return res.setText(req.params.id).send();
  });

new Router<AppState>({ state: { db: new Map() } })
  // @ts-expect-error — loadAccount needs :id and this pattern has none
  .get("/accounts", loadAccount, async (_req, res) => res.sendCode(204));

new Router<AppState>({ state: { db: new Map() } })
  // @ts-expect-error — adminsOnly needs req.user, which only auth.required() adds: order matters
  .get("/admin/:id", adminsOnly, auth.required(), async (_req, res) => res.sendCode(204));

// @ts-expect-error — loadAccount needs the AppState state, this router has none
new Router().get("/accounts/:id", loadAccount, async (_req, res) => res.sendCode(204));

// @ts-expect-error — a middleware must hand `next` what it says it adds
const liar: Middleware<Request, { requestId: string }> = (next) => async (req, res) => next(req, res);
void liar;

// compose keeps the additions and the requirements.
const signedInAdmin = compose(auth.required(), adminsOnly);
expectTypeOf(signedInAdmin).toEqualTypeOf<Middleware<Request, WithUser & unknown>>();
new Router().delete("/things/:id", signedInAdmin, async (req, res) => res.setText(`${req.user.subject} ${req.params.id}`).sendCode(204));
// Composed the wrong way round, the result needs a user itself, so a route can't use it.
const backwards = compose(adminsOnly, auth.required());
expectTypeOf(backwards).toEqualTypeOf<Middleware<Request & WithUser, unknown & WithUser>>();
// @ts-expect-error — backwards needs req.user before anything added it
new Router().get("/things/:id", backwards, async (_req, res) => res.sendCode(204));

// Plain (next: Handler) => Handler middleware still fit everywhere, adding nothing.
const plain: PlainMiddleware = (next) => (req, res) => next(req, res);
new Router().get("/p/:x", plain, auth.required(), async (req, res) => res.setText(req.params.x + req.user.subject).send());
const untypedCompose: Handler = compose(plain, auth.required(), plain, plain, plain)(async (_req, res) => res.sendCode(204));
void untypedCompose;

// ---- Run time ---------------------------------------------------------------------------

const events: string[] = [];
const errors: unknown[] = [];
const trace =
  (name: string): Middleware =>
  (next) =>
  async (req, res) => {
    events.push(`${name} in ${JSON.stringify(req.params)}`);
    const written = await next(req, res);
    events.push(`${name} out ${written.status}`);
    return written;
  };
const denyUnlessHeader: Middleware = (next) => async (req, res) => {
  events.push("deny?");
  if (req.headers.get("x-let-me-in") !== "yes") return res.setStatus(401).setText("no entry\n").send();
  return next(req, res);
};
const throwsGlitch: Middleware = () => async () => {
  throw Glitch.gone("moved on");
};
const throwsError: Middleware = () => async () => {
  throw new Error("middleware bug");
};

const admin = new Router({ state: { area: "admin" } }).get("/items/:item", trace("admin-mw"), async (req, res) => {
  events.push("admin handler");
  return res.setJson({ item: req.params.item, area: req.state.area }).send();
});

const PARTNER = "http://partner.example";
const partners = cors({ origin: PARTNER, methods: ["GET", "PUT"] });

const app = new Router<AppState>({ state: { db: new Map([["7", { name: "Ada" }]]) } })
  .get("/chain/:a/:b", trace("one"), trace("two"), async (req, res) => {
    events.push(`handler ${req.params.a} ${req.params.b}`);
    return res.setJson(req.params).send();
  })
  .get("/guarded/:id", trace("outer"), denyUnlessHeader, async (req, res) => {
    events.push("guarded handler");
    return res.setText(`in ${req.params.id}`).send();
  })
  .get("/glitch", throwsGlitch, async (_req, res) => res.sendCode(204))
  .get("/error", throwsError, async (_req, res) => res.sendCode(204))
  .get("/accounts/:id", requestId, loadAccount, async (req, res) => res.setJson({ name: req.account.name, requestId: req.requestId }).send())
  .get("/me/:id", auth.required(), async (req, res) => res.setJson({ id: req.params.id, subject: req.user.subject }).send())
  .get("/login", async (_req, res) => {
    await auth.setUser(res, "ada", { role: "admin" });
    return res.sendCode(204);
  })
  .get("/shared/:id", partners, async (req, res) => res.setJson({ id: req.params.id }).send())
  .put("/shared/:id", partners, async (req, res) => res.setJson({ put: req.params.id }).send())
  .get("/private/:id", async (req, res) => res.setText(req.params.id).send())
  .mount("/admin", admin);

let server: Server;
beforeAll(async () => {
  server = await serve(trace("global")(app.route), { port: 0, logger: { warn: () => undefined, error: (_message, ...rest) => void errors.push(...rest) } });
});
afterAll(() => server.close());

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; res: Response }> {
  const res = await fetch(server.url + path, init);
  return { status: res.status, text: await res.text(), res };
}

describe("per-route middleware", () => {
  it("runs after matching, outermost first, inside global middleware, and sees the response after it went out", async () => {
    events.length = 0;
    const { status, text } = await call("/chain/x/y%20z");
    expect([status, JSON.parse(text)]).toEqual([200, { a: "x", b: "y z" }]);
    expect(events).toEqual([
      "global in {}",
      'one in {"a":"x","b":"y z"}',
      'two in {"a":"x","b":"y z"}',
      "handler x y z",
      "two out 200",
      "one out 200",
      "global out 200",
    ]);
  });

  it("can answer instead of the handler (401 without calling next)", async () => {
    events.length = 0;
    expect(await call("/guarded/1")).toMatchObject({ status: 401, text: "no entry\n" });
    expect(events).toEqual(['global in {}', 'outer in {"id":"1"}', "deny?", "outer out 401", "global out 401"]);
    events.length = 0;
    expect(await call("/guarded/1", { headers: { "x-let-me-in": "yes" } })).toMatchObject({ status: 200, text: "in 1" });
    expect(events).toContain("guarded handler");
  });

  it("a Glitch thrown by a middleware is its response; any other error is a 500 and is logged", async () => {
    expect(await call("/glitch")).toMatchObject({ status: 410, text: "moved on\n" });
    errors.length = 0;
    const crashed = await call("/error");
    expect(crashed.status).toBe(500);
    expect(crashed.text).not.toContain("middleware bug");
    expect(errors.some((e) => e instanceof Error && e.message === "middleware bug")).toBe(true);
  });

  it("what a middleware adds reaches the handler, with the route's params and state", async () => {
    expect(JSON.parse((await call("/accounts/7", { headers: { "x-request-id": "r-1" } })).text)).toEqual({ name: "Ada", requestId: "r-1" });
    expect(await call("/accounts/8")).toMatchObject({ status: 404, text: "no account 8\n" });
  });

  it("on a mounted router's route: the mounted router's params and state", async () => {
    events.length = 0;
    const { status, text } = await call("/admin/items/b%C3%BCcher");
    expect([status, JSON.parse(text)]).toEqual([200, { item: "b\u00fccher", area: "admin" }]);
    expect(events).toEqual(["global in {}", 'admin-mw in {"item":"b\u00fccher"}', "admin handler", "admin-mw out 200", "global out 200"]);
  });

  it("HEAD runs the GET route's middleware too", async () => {
    events.length = 0;
    expect((await call("/chain/h/i", { method: "HEAD" })).status).toBe(200);
    expect(events).toContain("handler h i");
    expect(events.filter((e) => e.startsWith("one in"))).toHaveLength(1);
  });

  it("identity's required() on one route: 401 without a user, req.user with one", async () => {
    expect(await call("/me/1")).toMatchObject({ status: 401, text: "sign in first\n" });
    const cookie = (await fetch(`${server.url}/login`)).headers.get("set-cookie")!.split(";")[0]!;
    const me = await call("/me/1", { headers: { cookie } });
    expect([me.status, JSON.parse(me.text)]).toEqual([200, { id: "1", subject: "ada" }]);
  });
});

describe("cors() as per-route middleware", () => {
  it("adds its fields to the routes it is on, not to others", async () => {
    const shared = await call("/shared/1", { headers: { origin: PARTNER } });
    expect([shared.status, shared.res.headers.get("access-control-allow-origin"), shared.res.headers.get("vary")]).toEqual([200, PARTNER, "Origin"]);
    const other = await call("/private/1", { headers: { origin: PARTNER } });
    expect([other.status, other.res.headers.get("access-control-allow-origin")]).toEqual([200, null]);
  });

  it("answers the preflights asking about its routes (the path has no OPTIONS route)", async () => {
    const init = { method: "OPTIONS", headers: { origin: PARTNER, "access-control-request-method": "PUT", "access-control-request-headers": "content-type" } };
    const pre = await call("/shared/9", init);
    expect(pre.status).toBe(204);
    expect(pre.res.headers.get("access-control-allow-origin")).toBe(PARTNER);
    expect(pre.res.headers.get("access-control-allow-methods")).toBe("GET, PUT");
    // A refused origin gets the preflight answered without the allow fields.
    const refused = await call("/shared/9", { ...init, headers: { ...init.headers, origin: "http://evil.example" } });
    expect([refused.status, refused.res.headers.get("access-control-allow-origin")]).toEqual([204, null]);
    // A path whose routes have no middleware keeps the automatic answer.
    const plainPath = await call("/private/1", init);
    expect([plainPath.status, plainPath.res.headers.get("allow"), plainPath.res.headers.get("access-control-allow-origin")]).toEqual([204, "GET, HEAD, OPTIONS", null]);
    // A plain OPTIONS (not a preflight) on a path with cors() routes: the automatic answer.
    const options = await call("/shared/9", { method: "OPTIONS" });
    expect([options.status, options.res.headers.get("allow")]).toEqual([204, "GET, HEAD, PUT, OPTIONS"]);
  });

  it("a preflight whose method has no route, or a route without middleware, gets the automatic answer", async () => {
    const init = { method: "OPTIONS", headers: { origin: PARTNER, "access-control-request-method": "DELETE" } };
    const pre = await call("/shared/9", init);
    expect([pre.status, pre.res.headers.get("allow"), pre.res.headers.get("access-control-allow-origin")]).toEqual([204, "GET, HEAD, PUT, OPTIONS", null]);
  });

  it("the preflight goes through the route's middleware with the automatic answer at the end", async () => {
    const router = new Router().post("/p/:id", trace("pre"), async (_req, res) => res.sendCode(201));
    const s = await serve(router.route, { port: 0 });
    try {
      events.length = 0;
      const res = await fetch(`${s.url}/p/5`, { method: "OPTIONS", headers: { origin: PARTNER, "access-control-request-method": "POST" } });
      expect([res.status, res.headers.get("allow")]).toEqual([204, "POST, OPTIONS"]);
      expect(events).toEqual(['pre in {"id":"5"}', "pre out 204"]);
    } finally {
      await s.close();
    }
  });
});

describe("per-route middleware registration", () => {
  it("a non-function middleware or handler (from JavaScript) throws at start-up, naming the pattern", () => {
    // @ts-expect-error — not a middleware
    expect(() => new Router().get("/a", 42, async (_req, res) => res.sendCode(204))).toThrow("route /a: middleware 1 is number, not a function");
    // @ts-expect-error — no handler
    expect(() => new Router().get("/b", plain, undefined)).toThrow("route /b: the handler is undefined, not a function");
    // @ts-expect-error — nothing
    expect(() => new Router().get("/c")).toThrow("route /c: no handler");
  });
});
