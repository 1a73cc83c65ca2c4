// Glitch: errors that become responses — status, headers, public message, text/plain or
// RFC 9457 problem+json by Accept, causes hidden unless verboseErrors — over real sockets.
import { types } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { Glitch, ensure, orGlitch, serve, type Handler, type Request, type ResponseWritten, type Server, type ServeOptions } from "../host/index.js";
import { prefersJson } from "../host/http/error-response.js";
import { captureLogger, connectTcp, header } from "./support/server-harness.js";

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(handler: Handler, options: ServeOptions = {}): Promise<Server> {
  server = await serve(handler, { port: 0, logger: captureLogger(), ...options });
  return server;
}

const SECRET = "password=hunter2 in db row 7";

describe("a thrown Glitch becomes the response", () => {
  it("status, public message as text/plain, extra headers; the connection stays usable", async () => {
    const s = await start(async () => {
      throw Glitch.conflict("that name is taken", { headers: { "X-Hint": "pick another" } });
    });
    const client = await connectTcp(s.port);
    await client.write("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    const [first, second] = await client.responses(2);
    for (const r of [first!, second!]) {
      expect(r.status).toBe(409);
      expect(r.body.toString()).toBe("that name is taken\n");
      expect(header(r, "content-type")).toBe("text/plain; charset=utf-8");
      expect(header(r, "x-hint")).toBe("pick another");
      expect(header(r, "connection")).toBeUndefined();
      // No Accept field: nothing to vary on.
      expect(header(r, "vary")).toBeUndefined();
    }
    client.destroy();
  });

  it("a Glitch without a message sends the reason phrase", async () => {
    const s = await start(async () => {
      throw Glitch.notFound();
    });
    const res = await fetch(s.url, { headers: { accept: "text/plain" } });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("Not Found\n");
    expect(res.headers.get("vary")).toBe("Accept");
  });

  it.each([
    ["methodNotAllowed", () => Glitch.methodNotAllowed(["GET", "HEAD"]), 405, "allow", "GET, HEAD"],
    ["tooManyRequests", () => Glitch.tooManyRequests("slow down", 30), 429, "retry-after", "30"],
    ["serviceUnavailable", () => Glitch.serviceUnavailable(undefined, 5), 503, "retry-after", "5"],
    ["unauthorized", () => Glitch.unauthorized("log in", { headers: { "WWW-Authenticate": 'Bearer realm="api"' } }), 401, "www-authenticate", 'Bearer realm="api"'],
  ] as const)("Glitch.%s sets its status and header", async (_name, make, status, field, value) => {
    const s = await start(async () => {
      throw make();
    });
    const res = await fetch(s.url);
    expect(res.status).toBe(status);
    expect(res.headers.get(field)).toBe(value);
  });

  it("problem+json when Accept prefers JSON (RFC 9457 members, Vary: Accept)", async () => {
    const s = await start(async () => {
      throw Glitch.unprocessable("age must be a number");
    });
    const res = await fetch(s.url, { headers: { accept: "application/json" } });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("vary")).toBe("Accept");
    expect(await res.json()).toEqual({ type: "about:blank", title: "Unprocessable Content", status: 422, detail: "age must be a number" });
  });

  it("a HEAD request gets the error's head only", async () => {
    const s = await start(async () => {
      throw Glitch.gone("moved on");
    });
    const client = await connectTcp(s.port);
    await client.write("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
    const [head, get] = await client.responses(2, { heads: [true, false] });
    expect(head!.status).toBe(410);
    expect(head!.body.length).toBe(0);
    expect(header(head!, "content-length")).toBe(String("moved on\n".length));
    expect(get!.body.toString()).toBe("moved on\n");
    client.destroy();
  });

  it("error responses go through onResponse like any other", async () => {
    const seen: [string | undefined, ResponseWritten][] = [];
    const s = await start(
      async () => {
        throw Glitch.forbidden();
      },
      { onResponse: (req: Request | undefined, written: ResponseWritten) => seen.push([req?.path, written]) },
    );
    const res = await fetch(`${s.url}/private`);
    expect(await res.text()).toBe("Forbidden\n");
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe("/private");
    expect(seen[0]![1].status).toBe(403);
    expect(seen[0]![1].outcome).toBe("complete");
  });

  it("refuses statuses that aren't errors", () => {
    expect(() => new Glitch(302)).toThrow(/400 to 599, got 302/);
    expect(() => new Glitch(600)).toThrow(RangeError);
    expect(() => Glitch.tooManyRequests(undefined, -1)).toThrow(/Retry-After/);
  });
});

describe("causes stay private unless verboseErrors", () => {
  const failing: Handler = async () => {
    throw new Error(SECRET);
  };
  const glitchWithCause: Handler = async () => {
    throw Glitch.internal("lookup failed", { cause: new Error(SECRET) });
  };

  it("any other error → 500 without its message; the logger gets it", async () => {
    const logger = captureLogger();
    const s = await start(failing, { logger });
    for (const accept of ["text/plain", "application/json"]) {
      const res = await fetch(s.url, { headers: { accept } });
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).not.toContain("hunter2");
      expect(body).toContain("Internal Server Error");
    }
    expect(logger.errors).toHaveLength(2);
    expect((logger.errors[0]!.rest[0] as Error).message).toBe(SECRET);
  });

  it("a Glitch's cause is logged for 5xx and not sent", async () => {
    const logger = captureLogger();
    const s = await start(glitchWithCause, { logger });
    const res = await fetch(s.url, { headers: { accept: "application/json" } });
    expect(await res.json()).toEqual({ type: "about:blank", title: "Internal Server Error", status: 500, detail: "lookup failed" });
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]!.message).toContain("answered 500");
    expect((logger.errors[0]!.rest[0] as Error).message).toBe(SECRET);
  });

  it("4xx Glitches are not logged: they are the client's errors", async () => {
    const logger = captureLogger();
    const s = await start(async () => {
      throw Glitch.badRequest("no");
    }, { logger });
    expect((await fetch(s.url)).status).toBe(400);
    expect(logger.entries).toEqual([]);
  });

  it("verboseErrors sends the cause with its stack, as text and as a problem member", async () => {
    const s = await start(glitchWithCause, { verboseErrors: true });
    const text = await (await fetch(s.url, { headers: { accept: "text/plain" } })).text();
    expect(text).toMatch(/^lookup failed\n\ncause: Error: password=hunter2 in db row 7\n {4}at /);
    const problem = (await (await fetch(s.url, { headers: { accept: "application/problem+json" } })).json()) as Record<string, unknown>;
    expect(problem["detail"]).toBe("lookup failed");
    expect(problem["cause"]).toMatch(/^Error: password=hunter2/);
  });

  it("verboseErrors discloses a plain error behind a 500", async () => {
    const s = await start(failing, { verboseErrors: true });
    expect(await (await fetch(s.url)).text()).toContain(SECRET);
  });
});

describe("the library's own errors are rendered the same way", () => {
  it("a body over maxBodyBytes → 413 as problem+json for a JSON client", async () => {
    const s = await start(async (req, res) => res.setJson(await req.json()).send(), { maxBodyBytes: 10 });
    const res = await fetch(s.url, { method: "POST", body: "x".repeat(100), headers: { accept: "application/json" } });
    expect(res.status).toBe(413);
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem["status"]).toBe(413);
    expect(problem["detail"]).toBe("the request body is larger than 10 bytes");
  });

  it("a head the core refuses → 400 text/plain with the reason, and the connection closes", async () => {
    const s = await start(async (_req, res) => res.sendCode(204));
    const client = await connectTcp(s.port);
    await client.write("GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\nAccept: application/json\r\n\r\n");
    const [r] = await client.responses(1);
    expect(r!.status).toBe(400);
    expect(header(r!, "content-type")).toBe("text/plain; charset=utf-8");
    expect(header(r!, "connection")).toBe("close");
    expect(r!.body.toString()).toMatch(/^Bad Request \(.+\)\n$/);
  });
});

describe('errorFormat: "problem+json" answers every client in JSON', () => {
  it("fetch's */*, a browser's text/html, no Accept at all, the router-style 405 with Allow, a 500 and the library's own 400", async () => {
    const s = await start(
      async (req) => {
        if (req.path === "/boom") throw new Error(SECRET);
        throw Glitch.methodNotAllowed(["GET", "HEAD"]);
      },
      { errorFormat: "problem+json" },
    );
    for (const accept of [undefined, "*/*", "text/html,application/xhtml+xml;q=0.9", "text/plain"]) {
      const res = await fetch(s.url, { method: "POST", headers: accept === undefined ? {} : { accept } });
      expect(res.status).toBe(405);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      // The body no longer depends on Accept.
      expect(res.headers.get("vary")).toBeNull();
      expect(await res.json()).toEqual({ type: "about:blank", title: "Method Not Allowed", status: 405, detail: "Method Not Allowed" });
    }
    const boom = await fetch(`${s.url}/boom`);
    expect(boom.status).toBe(500);
    const problem = (await boom.json()) as Record<string, unknown>;
    expect(problem["title"]).toBe("Internal Server Error");
    expect(JSON.stringify(problem)).not.toContain("hunter2");

    const client = await connectTcp(s.port);
    await client.write("GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n");
    const [r] = await client.responses(1);
    expect(r!.status).toBe(400);
    expect(header(r!, "content-type")).toBe("application/problem+json");
    expect((JSON.parse(r!.body.toString()) as { status: number }).status).toBe(400);
    client.destroy();
  });

  it("an unknown format is refused when the server starts", async () => {
    await expect(serve(async (_req, res) => res.sendCode(204), { port: 0, errorFormat: "xml" as "negotiate" })).rejects.toThrow(/errorFormat must be "negotiate", "problem\+json" or "prefer-json", got xml/);
  });
});

describe("middleware adds headers to error responses: Glitch.from and withHeaders", () => {
  const withStamp =
    (next: Handler): Handler =>
    async (req, res) => {
      res.setHeader("X-Stamp", "1");
      try {
        return await next(req, res);
      } catch (error) {
        throw Glitch.from(error).withHeaders({ "X-Stamp": "1", vary: "Origin" });
      }
    };

  it("a Glitch keeps its status, message and headers, gains the middleware's, and same-named ones are replaced", async () => {
    const s = await start(
      withStamp(async () => {
        throw Glitch.methodNotAllowed(["GET"], "read only", { headers: { Vary: "Cookie" } });
      }),
    );
    const res = await fetch(s.url, { headers: { accept: "application/json" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(res.headers.get("x-stamp")).toBe("1");
    // The middleware's Vary replaced the handler's; the renderer appends Accept.
    expect(res.headers.get("vary")).toBe("Origin, Accept");
    expect(((await res.json()) as { detail: string }).detail).toBe("read only");
  });

  it("any other error becomes a private 500 that still carries the middleware's headers", async () => {
    const logger = captureLogger();
    const s = await start(
      withStamp(async () => {
        throw new Error(SECRET);
      }),
      { logger },
    );
    const res = await fetch(s.url);
    expect(res.status).toBe(500);
    expect(res.headers.get("x-stamp")).toBe("1");
    expect(await res.text()).toBe("Internal Server Error\n");
    expect((logger.errors[0]!.rest[0] as Error).message).toBe(SECRET);
  });

  it("withHeaders returns a copy and leaves the original alone", () => {
    const original = Glitch.notFound("x", { headers: { A: "1" } });
    const copy = original.withHeaders({ B: "2" });
    expect(copy).not.toBe(original);
    expect(original.headers).toEqual({ A: "1" });
    expect(copy.headers).toEqual({ A: "1", B: "2" });
    expect([copy.status, copy.message]).toEqual([404, "x"]);
  });
});

describe("orGlitch and ensure", () => {
  it("orGlitch turns a rejection into a Glitch with the context message and the cause kept", async () => {
    const cause = new Error(SECRET);
    const error = await orGlitch(Promise.reject(cause), 502, "the upstream failed").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Glitch);
    expect((error as Glitch).status).toBe(502);
    expect((error as Glitch).message).toBe("the upstream failed");
    expect((error as Glitch).cause).toBe(cause);
    await expect(orGlitch(Promise.resolve(7), 500, "x")).resolves.toBe(7);
  });

  it("orGlitch lets a Glitch through unchanged", async () => {
    const inner = Glitch.notFound("no row");
    await expect(orGlitch(Promise.reject(inner), 500, "lookup failed")).rejects.toBe(inner);
  });

  it("ensure returns present values (0 and '' included) and throws for null/undefined", () => {
    expect(ensure(0, 404, "x")).toBe(0);
    expect(ensure("", 404, "x")).toBe("");
    expect(() => ensure(null, 404, "no such user")).toThrow(expect.objectContaining({ status: 404, message: "no such user" }));
    expect(() => ensure(undefined, 400, "id required")).toThrow(Glitch);
  });

  it("over the wire: ensure's 404 and orGlitch's 503", async () => {
    const users = new Map([["1", "ada"]]);
    const s = await start(async (req, res) => {
      if (req.path === "/flaky") await orGlitch(Promise.reject(new Error("pool exhausted")), 503, "try again later");
      const name = ensure(users.get(req.query.get("id") ?? ""), 404, "no such user");
      return res.setText(name).send();
    });
    expect(await (await fetch(`${s.url}/?id=1`)).text()).toBe("ada");
    const missing = await fetch(`${s.url}/?id=2`);
    expect([missing.status, await missing.text()]).toEqual([404, "no such user\n"]);
    const flaky = await fetch(`${s.url}/flaky`);
    expect([flaky.status, await flaky.text()]).toEqual([503, "try again later\n"]);
  });
});

describe("Accept negotiation (RFC 9110 §12.5.1)", () => {
  it.each([
    ["application/json", true],
    ["application/problem+json", true],
    ["application/json, */*;q=0.8", true],
    ["application/json, */*", true],
    ["application/*", true],
    ["*/*", false],
    ["text/plain", false],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false],
    ["application/json;q=0.5, text/plain", false],
    ["text/plain;q=0.1, application/json;q=0.2", true],
    ["application/json;q=0, */*", false],
    ["application/json, text/plain", false],
    ["application/json;q=2, text/plain;q=0.5", true],
    ["garbage, application/json", true],
    ["", false],
  ])("%j prefers JSON: %s", (accept, expected) => {
    expect(prefersJson(accept)).toBe(expected);
  });
});

describe("stack traces: captured only where they are of use (Glitch.captureStacks)", () => {
  afterEach(() => {
    Glitch.captureStacks = "server-errors";
  });
  const at = /\n {4}at /;

  it("by default: none for a 4xx or a Glitch with a cause (its cause keeps its own); one for a 5xx without a cause, which is logged as itself", () => {
    const notFound = Glitch.notFound("no item 7");
    expect(notFound.stack).toBe("Glitch: no item 7");
    expect(notFound).toBeInstanceOf(Error);
    expect(types.isNativeError(notFound)).toBe(true);
    const cause = new Error("pool exhausted");
    const caused = Glitch.serviceUnavailable("try later", undefined, { cause });
    expect(caused.stack).toBe("Glitch: try later");
    expect(cause.stack).toMatch(at);
    expect(Glitch.internal("lookup failed").stack).toMatch(/^Glitch: lookup failed\n {4}at /);
    expect(new Glitch(429).stack).toBe("Glitch: Too Many Requests");
  });

  it('"all" captures every one (where a 4xx was thrown, while debugging); "none" captures none', () => {
    Glitch.captureStacks = "all";
    expect(Glitch.notFound().stack).toMatch(/^Glitch: Not Found\n {4}at /);
    expect(Glitch.badRequest("x", { cause: new Error("y") }).stack).toMatch(at);
    Glitch.captureStacks = "none";
    expect(Glitch.internal().stack).toBe("Glitch: Internal Server Error");
  });

  it("leaves Error.stackTraceLimit as it found it, for Glitches and other errors", () => {
    const limit = Error.stackTraceLimit;
    Glitch.notFound();
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error("plain").stack).toMatch(at);
    expect(() => new Glitch(302)).toThrow(RangeError);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it("withHeaders keeps the original's stack (or its lack of one) and captures none of its own", () => {
    const thrownHere = Glitch.internal("boom");
    const copy = thrownHere.withHeaders({ "X-A": "1" });
    expect(copy.stack).toBe(thrownHere.stack);
    const quiet = Glitch.forbidden();
    Glitch.captureStacks = "all";
    expect(quiet.withHeaders({ "X-A": "1" }).stack).toBe("Glitch: Forbidden");
  });

  it("a 5xx Glitch without a cause is logged with the stack of where it was thrown", async () => {
    const logger = captureLogger();
    const s = await start(async function answerWithFiveHundred() {
      throw Glitch.internal("no backend");
    }, { logger });
    expect((await fetch(s.url)).status).toBe(500);
    const logged = logger.errors[0]!.rest[0] as Glitch;
    expect(logged.stack).toMatch(/answerWithFiveHundred/);
  });
});
