// The REST API example, started as the README says — with its in-memory store
// (`npm start`) and with PostgreSQL (`server-postgres.js`, against a throwaway server this
// test starts on loopback) — and used like a client would: login, CRUD, validation (zod
// through req.json(schema): 422 problem+json listing the failing fields), per-user
// isolation, CORS preflight, logout.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";
import { startPostgres, type Postgres } from "./support/postgres.js";
import { IN_CI, skipWithout } from "./support/tools.js";

const database = skipWithout("postgresql", "the PostgreSQL REST API example test")
  ? { skipped: "PostgreSQL is not installed" }
  : await startPostgres();
if ("skipped" in database) {
  // Installed but unable to start is a failure in CI, like an absent tool.
  if (IN_CI) throw new Error(`the PostgreSQL REST API example test: ${database.skipped}`);
  console.warn(`\n*** SKIPPED: the PostgreSQL REST API example test: ${database.skipped} ***\n`);
}
afterAll(async () => {
  if (!("skipped" in database)) await database.stop();
});

const FRONT_END = "http://localhost:5173";

interface Store {
  name: string;
  file: string;
  env: () => Record<string, string>;
  /** Reads the todos table directly, when there is one. */
  rows?: () => Promise<{ owner: string; title: string; done: boolean }[]>;
}

const STORES: Store[] = [
  { name: "in-memory", file: "examples/rest-api/server.js", env: () => ({}) },
  {
    name: "PostgreSQL",
    file: "examples/rest-api/server-postgres.js",
    env: () => ({ DATABASE_URL: (database as Postgres).url, PG_POOL_MAX: "4" }),
    rows: async () => {
      const client = new pg.Client({ connectionString: (database as Postgres).url });
      await client.connect();
      try {
        return (await client.query<{ owner: string; title: string; done: boolean }>("SELECT owner, title, done FROM todos ORDER BY id")).rows;
      } finally {
        await client.end();
      }
    },
  },
];

describe.each(STORES)("examples/rest-api with the $name store", (store) => {
  const skipped = store.name === "PostgreSQL" && "skipped" in database;
  let app: RunningExample;
  beforeAll(async () => {
    if (skipped) return;
    app = await startExample(store.file, { CORS_ORIGINS: FRONT_END, ...store.env() });
  });
  afterAll(() => app?.stop());

  /** A client with a cookie jar of one cookie (the session). */
  function client() {
    let cookie: string | undefined;
    return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(app.base + path, {
        method,
        headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const setCookie = res.headers.get("set-cookie");
      if (setCookie) cookie = /Max-Age=0/.test(setCookie) ? undefined : setCookie.split(";")[0];
      const text = await res.text();
      return { status: res.status, res, body: text && (res.headers.get("content-type") ?? "").includes("json") ? (JSON.parse(text) as Record<string, unknown>) : text };
    };
  }

  it.skipIf(skipped)("login, create, list, update, delete, logout", async () => {
    const ada = client();
    expect((await ada("GET", "/todos")).status).toBe(401);
    expect((await ada("POST", "/login", { name: "ada", password: "wrong" })).status).toBe(401);
    const login = await ada("POST", "/login", { name: "ada", password: "lovelace" });
    expect(login.status).toBe(200);
    expect(login.res.headers.get("set-cookie")).toMatch(/^session=[\w.-]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
    expect((await ada("GET", "/me")).body).toEqual({ name: "ada" });

    const created = await ada("POST", "/todos", { title: "  write the docs " });
    expect(created.status).toBe(201);
    const todo = created.body as { id: string; title: string; done: boolean };
    expect(created.res.headers.get("location")).toBe(`/todos/${todo.id}`);
    expect(todo).toMatchObject({ title: "write the docs", done: false });
    expect((await ada("GET", "/todos")).body).toEqual([todo]);
    expect((await ada("PATCH", `/todos/${todo.id}`, { done: true })).body).toMatchObject({ id: todo.id, done: true });
    expect((await ada("GET", `/todos/${todo.id}`)).body).toMatchObject({ done: true });
    if (store.rows) expect(await store.rows()).toEqual([{ owner: "ada", title: "write the docs", done: true }]);
    expect((await ada("DELETE", `/todos/${todo.id}`)).status).toBe(204);
    expect((await ada("GET", `/todos/${todo.id}`)).status).toBe(404);

    expect((await ada("POST", "/logout")).status).toBe(204);
    expect((await ada("GET", "/todos")).status).toBe(401);
  });

  it.skipIf(skipped)("validation answers 4xx with problem+json for JSON clients", async () => {
    const ada = client();
    await ada("POST", "/login", { name: "ada", password: "lovelace" });
    const json = { accept: "application/json" };
    // Bodies are validated with zod through req.json(schema): a 422 lists each failing field.
    const invalid = await ada("POST", "/todos", { title: "   " }, json);
    expect([invalid.status, invalid.res.headers.get("content-type"), invalid.body]).toEqual([
      422,
      "application/problem+json",
      {
        type: "about:blank",
        title: "Unprocessable Content",
        status: 422,
        detail: "the request body is invalid: /title: must not be empty",
        errors: [{ pointer: "/title", detail: "must not be empty" }],
      },
    ]);
    expect(await ada("POST", "/todos", "{not json", json)).toMatchObject({ status: 400 });
    expect(await ada("POST", "/todos", [1], json)).toMatchObject({ status: 422, body: { errors: [{ pointer: "", detail: "must be a JSON object" }] } });
    expect(await ada("PATCH", "/todos/1", { done: "yes", title: 7 }, json)).toMatchObject({
      status: 422,
      body: { errors: [{ pointer: "/title", detail: "must be a string" }, { pointer: "/done", detail: "must be true or false" }] },
    });
    expect(await ada("POST", "/login", { name: "ada" }, json)).toMatchObject({ status: 422, body: { errors: [{ pointer: "/password", detail: "must be a string" }] } });
    expect((await ada("GET", "/todos/not-a-number", undefined, json)).status).toBe(404);
    const wrongType = await fetch(`${app.base}/login`, { method: "POST", body: "name=ada", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(wrongType.status).toBe(415);
    const put = await ada("PUT", "/todos");
    expect([put.status, put.res.headers.get("allow")]).toEqual([405, "GET, HEAD, POST, OPTIONS"]);
  });

  it.skipIf(skipped)("each user sees only their own todos", async () => {
    const ada = client();
    const alan = client();
    await ada("POST", "/login", { name: "ada", password: "lovelace" });
    await alan("POST", "/login", { name: "alan", password: "turing" });
    const mine = (await ada("POST", "/todos", { title: "ada's" })).body as { id: string };
    expect((await alan("GET", `/todos/${mine.id}`)).status).toBe(404);
    expect((await alan("DELETE", `/todos/${mine.id}`)).status).toBe(404);
    expect((await alan("GET", "/todos")).body).toEqual([]);
  });

  it.skipIf(skipped)("CORS: the configured front end's preflight is allowed with credentials; others get nothing", async () => {
    const preflight = (origin: string) =>
      fetch(`${app.base}/todos/1`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "PATCH", "access-control-request-headers": "content-type" } });
    const ok = await preflight(FRONT_END);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(FRONT_END);
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    expect(ok.headers.get("access-control-allow-methods")).toContain("PATCH");
    const refused = await preflight("http://evil.example");
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it.skipIf(skipped)("logs one access line per response", async () => {
    await fetch(`${app.base}/`);
    await app.line(/^GET \/ 200 \d+B first=[\d.]+ms last=[\d.]+ms complete$/);
  });
});
