// The REST API example's application: a per-user todo list behind a cookie login.
// Everything the conveniences offer, in one small app: Router (params, 404/405), JSON
// bodies validated with zod through req.json(schema) (an invalid body is a 422 listing each
// failing field), Glitch for every error answer, CORS for a browser front end on another
// origin, identity (a signed JWT in an HttpOnly cookie) for login/logout. The store is
// injected: memory-store.js (the default) or postgres-store.js.
import { scryptSync, timingSafeEqual } from "node:crypto";
import { Glitch, Router, compose, cors, identity, orGlitch } from "tophat";
import { z } from "zod";

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

// The bodies the API accepts. Any Standard Schema validator (zod, valibot, arktype) fits
// req.json(schema); zod is what this example installs.
const object = { error: "must be a JSON object" };
const Title = z.string({ error: "must be a string" }).trim().min(1, "must not be empty").max(200, "must be at most 200 characters");
const Login = z.object({ name: z.string({ error: "must be a string" }), password: z.string({ error: "must be a string" }) }, object);
const NewTodo = z.object({ title: Title }, object);
const TodoPatch = z.object({ title: Title.optional(), done: z.boolean({ error: "must be true or false" }).optional() }, object);

/** Reads a JSON body valid for `schema`: 415 for another media type, 400 if malformed, 422 if invalid. */
async function jsonBody(req, schema) {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) throw Glitch.unsupportedMediaType("send JSON (Content-Type: application/json)");
  return req.json(schema);
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
      const { name, password } = await jsonBody(req, Login);
      if (!users.check(name, password)) {
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
      const { title } = await jsonBody(req, NewTodo);
      const created = await orGlitch(store.create(owner, title), 500, "the store failed");
      return res.setStatus(201).setHeader("Location", `/todos/${created.id}`).setJson(created).send();
    })
    .get("/todos/:id", async (req, res) => res.setJson(await todo(req)).send())
    .patch("/todos/:id", async (req, res) => {
      const owner = await signedIn(req);
      const patch = await jsonBody(req, TodoPatch);
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
