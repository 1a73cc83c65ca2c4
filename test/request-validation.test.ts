// Validation of request data by Standard Schema validators (zod and valibot here):
// req.json(schema), req.form(schema) and req.validQuery(schema) give the schema's typed
// output, or a 422 whose problem+json lists each failing field as a JSON pointer and why.
// The types are checked by tsc (the suite type-checks test/), the bodies over sockets.
import * as v from "valibot";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { serve, type ConnectionOptions, type Handler, type Request, type Server } from "../host/index.js";

let server: Server | undefined;
afterEach(async () => {
  await server?.close({ graceMs: 0 });
  server = undefined;
});

async function start(handler: Handler, options: ConnectionOptions = {}): Promise<Server> {
  server = await serve(handler, { port: 0, ...options });
  return server;
}

const Todo = z.object({
  title: z.string().trim().min(1, "must not be empty"),
  done: z.boolean().default(false),
  tags: z.array(z.string().max(5, "at most 5 characters")).optional(),
});

const TodoV = v.object({
  title: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty")),
  done: v.optional(v.boolean(), false),
  tags: v.optional(v.array(v.pipe(v.string(), v.maxLength(5, "at most 5 characters")))),
});

/** Sends `body` as JSON and returns the status, content type and body text. */
async function postJson(url: string, body: string, accept = "application/json"): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", accept } });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

describe("req.json(schema)", () => {
  it("types its output from the schema (zod and valibot)", async () => {
    // Type-level only: tsc checks these when it checks test/.
    const typed = async (req: Request): Promise<void> => {
      const todo = await req.json(Todo);
      expectTypeOf(todo).toEqualTypeOf<{ title: string; done: boolean; tags?: string[] | undefined }>();
      const other = await req.json(TodoV);
      expectTypeOf(other).toEqualTypeOf<{ title: string; done: boolean; tags?: string[] | undefined }>();
      const title: string = todo.title;
      // @ts-expect-error the schema has no `owner`
      const owner: unknown = todo.owner;
      const untyped = await req.json();
      expectTypeOf(untyped).toEqualTypeOf<unknown>();
      void [title, owner];
    };
    expect(typeof typed).toBe("function");
  });

  for (const [vendor, schema] of [["zod", Todo], ["valibot", TodoV]] as const) {
    it(`${vendor}: a valid body becomes the schema's output (defaults and transforms applied)`, async () => {
      const s = await start(async (req, res) => res.setJson(await req.json(schema)).send());
      const ok = await postJson(`${s.url}/`, JSON.stringify({ title: "  write tests ", tags: ["a"] }));
      expect([ok.status, JSON.parse(ok.text)]).toEqual([200, { title: "write tests", done: false, tags: ["a"] }]);
    });

    it(`${vendor}: an invalid body is 422 problem+json listing each failing field as a JSON pointer`, async () => {
      const s = await start(async (req, res) => res.setJson(await req.json(schema)).send());
      const bad = await postJson(`${s.url}/`, JSON.stringify({ title: "   ", tags: ["ok", "too long"] }));
      expect(bad.status).toBe(422);
      expect(bad.type).toBe("application/problem+json");
      expect(JSON.parse(bad.text)).toEqual({
        type: "about:blank",
        title: "Unprocessable Content",
        status: 422,
        detail: "the request body is invalid: /title: must not be empty; /tags/1: at most 5 characters",
        errors: [
          { pointer: "/title", detail: "must not be empty" },
          { pointer: "/tags/1", detail: "at most 5 characters" },
        ],
      });
    });
  }

  it("the text/plain answer says the same in words; errorFormat problem+json gives fetch's */* the JSON", async () => {
    const handler: Handler = async (req, res) => res.setJson(await req.json(Todo)).send();
    const s = await start(handler);
    const text = await postJson(`${s.url}/`, JSON.stringify({ title: "", done: "yes" }), "text/plain");
    expect(text.status).toBe(422);
    expect(text.type).toBe("text/plain; charset=utf-8");
    expect(text.text).toMatch(/^the request body is invalid: \/title: must not be empty; \/done: .+\n$/);
    await server!.close();
    const api = await start(handler, { errorFormat: "problem+json" });
    const star = await postJson(`${api.url}/`, JSON.stringify({ title: "" }), "*/*");
    expect([star.status, star.type, JSON.parse(star.text).errors]).toEqual([422, "application/problem+json", [{ pointer: "/title", detail: "must not be empty" }]]);
  });

  it("a root-level failure has the empty pointer; keys with / and ~ are escaped (RFC 6901); invalid JSON stays 400", async () => {
    const Weird = z.object({ "a/b~c": z.number({ error: "must be a number" }) });
    const s = await start(async (req, res) => res.setJson(await req.json(Weird)).send());
    const root = await postJson(`${s.url}/`, "[1, 2]");
    expect(root.status).toBe(422);
    expect(JSON.parse(root.text).errors).toEqual([{ pointer: "", detail: expect.any(String) }]);
    expect(JSON.parse(root.text).detail).toMatch(/^the request body is invalid: \(the whole value\): /);
    const escaped = await postJson(`${s.url}/`, JSON.stringify({ "a/b~c": "x" }));
    expect(JSON.parse(escaped.text).errors).toEqual([{ pointer: "/a~1b~0c", detail: "must be a number" }]);
    const broken = await postJson(`${s.url}/`, "{not json");
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.text).detail).toMatch(/^the request body is not valid JSON: /);
  });

  it("awaits async validators (zod refinements, valibot's async pipes)", async () => {
    const taken = new Set(["ada"]);
    const lookup = async (name: string): Promise<boolean> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return !taken.has(name);
    };
    const Signup = z.object({ name: z.string().refine(lookup, "is taken") });
    const SignupV = v.objectAsync({ name: v.pipeAsync(v.string(), v.checkAsync(lookup, "is taken")) });
    const s = await start(async (req, res) => res.setJson(req.path === "/zod" ? await req.json(Signup) : await req.json(SignupV)).send());
    for (const path of ["/zod", "/valibot"]) {
      expect((await postJson(`${s.url}${path}`, '{"name":"grace"}')).status).toBe(200);
      const taken = await postJson(`${s.url}${path}`, '{"name":"ada"}');
      expect([taken.status, JSON.parse(taken.text).errors]).toEqual([422, [{ pointer: "/name", detail: "is taken" }]]);
    }
  });

  it("a schema that isn't a Standard Schema is a server error (500), not the client's", async () => {
    const s = await start(async (req, res) => res.setJson(await req.json({} as unknown as typeof Todo)).send(), { logger: { warn: () => undefined, error: () => undefined } });
    expect((await postJson(`${s.url}/`, "{}")).status).toBe(500);
  });
});

describe("req.form(schema) and req.validQuery(schema)", () => {
  it("validates a urlencoded form as an object (a repeated name → an array) with zod and valibot", async () => {
    const Form = z.object({ email: z.email("must be an email"), topics: z.array(z.string()).or(z.string().transform((t) => [t])) });
    const FormV = v.object({ email: v.pipe(v.string(), v.email("must be an email")), topics: v.union([v.array(v.string()), v.pipe(v.string(), v.transform((t) => [t]))]) });
    const s = await start(async (req, res) => {
      const form = req.path === "/zod" ? await req.form(Form) : await req.form(FormV);
      expectTypeOf(form).toEqualTypeOf<{ email: string; topics: string[] }>();
      return res.setJson(form).send();
    });
    for (const path of ["/zod", "/valibot"]) {
      const one = await fetch(`${s.url}${path}`, { method: "POST", body: new URLSearchParams("email=a%40b.example&topics=http") });
      expect(await one.json()).toEqual({ email: "a@b.example", topics: ["http"] });
      const two = await fetch(`${s.url}${path}`, { method: "POST", body: new URLSearchParams("email=a%40b.example&topics=http&topics=wasm") });
      expect(await two.json()).toEqual({ email: "a@b.example", topics: ["http", "wasm"] });
      const bad = await fetch(`${s.url}${path}`, { method: "POST", body: new URLSearchParams("email=nope&topics=x"), headers: { accept: "application/json" } });
      expect(bad.status).toBe(422);
      expect(await bad.json()).toEqual({
        type: "about:blank",
        title: "Unprocessable Content",
        status: 422,
        detail: "the form is invalid: /email: must be an email",
        errors: [{ pointer: "/email", detail: "must be an email" }],
      });
      const json = await fetch(`${s.url}${path}`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      expect(json.status).toBe(415);
    }
  });

  it("validates the query, coercing as the schema says", async () => {
    const Page = z.object({ page: z.coerce.number().int().min(1, "must be 1 or more").default(1), q: z.string().optional() });
    const s = await start(async (req, res) => {
      const query = await req.validQuery(Page);
      expectTypeOf(query).toEqualTypeOf<{ page: number; q?: string | undefined }>();
      return res.setJson(query).send();
    });
    expect(await (await fetch(`${s.url}/search?q=tophat&page=3`)).json()).toEqual({ q: "tophat", page: 3 });
    expect(await (await fetch(`${s.url}/search`)).json()).toEqual({ page: 1 });
    const bad = await fetch(`${s.url}/search?page=0`, { headers: { accept: "application/problem+json" } });
    expect([bad.status, await bad.json()]).toEqual([
      422,
      { type: "about:blank", title: "Unprocessable Content", status: 422, detail: "the query is invalid: /page: must be 1 or more", errors: [{ pointer: "/page", detail: "must be 1 or more" }] },
    ]);
  });
});
