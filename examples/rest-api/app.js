// The REST API example's application: a per-user todo list behind a cookie login.
// Everything the conveniences offer, in one small app: Router (params, 404/405), JSON
// bodies, Glitch for every error answer, CORS for a browser front end on another origin,
// identity (a signed JWT in an HttpOnly cookie) for login/logout. The store is injected:
// memory-store.js (the default) or postgres-store.js.
import { scryptSync, timingSafeEqual } from "node:crypto";
import { Glitch, Router, compose, cors, identity, orGlitch } from "tophat";

/** Demo accounts: name → scrypt hash of the password (never store plain passwords). */
function demoUsers() {
  const salt = "tophat-demo";
  const hash = (password) => scryptSync(password, salt, 32);
  const users = new Map([
    ["ada", hash("lovelace")],
    ["alan", hash("turing")],
  ]);
  return {
    check(name, password) {
      const expected = users.get(name);
      // Hash even for unknown names, so timing doesn't tell which names exist.
      const actual = hash(password);
      return expected !== undefined && timingSafeEqual(expected, actual);
    },
  };
}

/** Reads a JSON object body, or answers 400/415. */
async function jsonObject(req) {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) throw Glitch.unsupportedMediaType("send JSON (Content-Type: application/json)");
  const body = await req.json();
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw Glitch.badRequest("the body must be a JSON object");
  return body;
}

function title(value) {
  if (typeof value !== "string" || value.trim() === "") throw Glitch.unprocessable("title must be a non-empty string");
  if (value.length > 200) throw Glitch.unprocessable("title must be at most 200 characters");
  return value.trim();
}

/**
 * The whole API as one Handler.
 * @param {{ store: object, key: string, corsOrigins: string[], secureCookies?: boolean }} options
 */
export function createApp({ store, key, corsOrigins, secureCookies = true }) {
  const users = demoUsers();
  const auth = identity({ key, cookieName: "session", secure: secureCookies, sameSite: "Lax", maxAge: 60 * 60 * 24 });

  /** The signed-in user's name, or 401. */
  async function signedIn(req) {
    const user = await auth.user(req);
    if (user === undefined) throw Glitch.unauthorized("sign in first: POST /login");
    return user.subject;
  }

  const todo = async (req) => {
    const found = await orGlitch(store.get(await signedIn(req), req.params.id), 500, "the store failed");
    if (found === undefined) throw Glitch.notFound(`no todo ${req.params.id}`);
    return found;
  };

  const router = new Router()
    .get("/", async (_req, res) => res.setJson({ login: "POST /login", todos: "/todos" }).send())
    .post("/login", async (req, res) => {
      const { name, password } = await jsonObject(req);
      if (typeof name !== "string" || typeof password !== "string" || !users.check(name, password)) {
        throw Glitch.unauthorized("wrong name or password");
      }
      await auth.setUser(res, name);
      return res.setJson({ name }).send();
    })
    .post("/logout", async (_req, res) => {
      auth.forget(res);
      return res.sendCode(204);
    })
    .get("/me", async (req, res) => res.setJson({ name: await signedIn(req) }).send())
    .get("/todos", async (req, res) => res.setJson(await orGlitch(store.list(await signedIn(req)), 500, "the store failed")).send())
    .post("/todos", async (req, res) => {
      const owner = await signedIn(req);
      const body = await jsonObject(req);
      const created = await orGlitch(store.create(owner, title(body.title)), 500, "the store failed");
      return res.setStatus(201).setHeader("Location", `/todos/${created.id}`).setJson(created).send();
    })
    .get("/todos/:id", async (req, res) => res.setJson(await todo(req)).send())
    .patch("/todos/:id", async (req, res) => {
      const owner = await signedIn(req);
      const body = await jsonObject(req);
      const patch = {};
      if ("title" in body) patch.title = title(body.title);
      if ("done" in body) {
        if (typeof body.done !== "boolean") throw Glitch.unprocessable("done must be true or false");
        patch.done = body.done;
      }
      const updated = await orGlitch(store.update(owner, req.params.id, patch), 500, "the store failed");
      if (updated === undefined) throw Glitch.notFound(`no todo ${req.params.id}`);
      return res.setJson(updated).send();
    })
    .delete("/todos/:id", async (req, res) => {
      const removed = await orGlitch(store.remove(await signedIn(req), req.params.id), 500, "the store failed");
      if (!removed) throw Glitch.notFound(`no todo ${req.params.id}`);
      return res.sendCode(204);
    });

  return compose(cors({ origin: corsOrigins, credentials: true, methods: ["GET", "POST", "PATCH", "DELETE"], allowHeaders: ["Content-Type"] }))((req, res) => router.route(req, res));
}
