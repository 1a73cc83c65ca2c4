// The REST API example with TRACES=1: a printed OpenTelemetry SERVER span per request,
// parented on the caller's traceparent, named after the route (real fetch over TCP).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";

interface PrintedSpan {
  name: string;
  kind: string;
  traceId: string;
  parentSpanId?: string;
  status: string;
  attributes: Record<string, string | number>;
}

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/rest-api/server.js", { TRACES: "1" });
});
afterAll(() => app.stop());

async function spanOf(traceId: string): Promise<PrintedSpan> {
  const find = (): PrintedSpan | undefined =>
    app.lines
      .filter((l) => l.startsWith("span "))
      .map((l) => JSON.parse(l.slice(5)) as PrintedSpan)
      .find((s) => s.traceId === traceId);
  for (let i = 0; i < 400 && find() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  return find()!;
}

describe("examples/rest-api with TRACES=1", () => {
  it("login and a todo by id: spans named after their routes, in the caller's trace", async () => {
    const login = await fetch(`${app.base}/login`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: "00-11111111111111111111111111111111-2222222222222222-01" },
      body: JSON.stringify({ name: "ada", password: "lovelace" }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const span = await spanOf("11111111111111111111111111111111");
    expect(span).toMatchObject({ name: "POST /login", kind: "SERVER", parentSpanId: "2222222222222222", status: "UNSET" });
    expect(span.attributes["http.response.status_code"]).toBe(200);

    const missing = await fetch(`${app.base}/todos/nope`, { headers: { cookie, traceparent: "00-33333333333333333333333333333333-4444444444444444-01" } });
    expect(missing.status).toBe(404);
    const notFound = await spanOf("33333333333333333333333333333333");
    expect(notFound.name).toBe("GET /todos/:id");
    expect(notFound.attributes).toMatchObject({ "http.route": "/todos/:id", "http.response.status_code": 404, "url.path": "/todos/nope" });
  });
});
