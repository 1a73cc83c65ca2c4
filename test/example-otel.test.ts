// examples/otel.js: started as a process; its printed spans are checked after real requests
// (fetch with and without a traceparent).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";

interface PrintedSpan {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  status: string;
  attributes: Record<string, string | number>;
}

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/otel.js");
});
afterAll(() => app.stop());

/** The printed spans named `name` whose trace is `traceId` (waits for `n`). */
async function printed(traceId: string, n: number): Promise<PrintedSpan[]> {
  const find = (): PrintedSpan[] =>
    app.lines
      .filter((l) => l.startsWith("span "))
      .map((l) => JSON.parse(l.slice(5)) as PrintedSpan)
      .filter((s) => s.traceId === traceId);
  for (let i = 0; i < 400 && find().length < n; i++) await new Promise((r) => setTimeout(r, 10));
  return find();
}

describe("examples/otel.js", () => {
  it("a request with a traceparent: a SERVER span in that trace, the handler's span its child", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fetch(`${app.base}/users/42`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(await res.json()).toEqual({ id: "42", name: "ada" });
    const spans = await printed(traceId, 2);
    const server = spans.find((s) => s.kind === "SERVER")!;
    expect(server.name).toBe("GET /users/:id");
    expect(server.parentSpanId).toBe("00f067aa0ba902b7");
    expect(server.attributes).toMatchObject({ "http.request.method": "GET", "http.route": "/users/:id", "http.response.status_code": 200, "url.path": "/users/42" });
    const child = spans.find((s) => s.name === "users.lookup")!;
    expect(child.parentSpanId).toBe(server.spanId);
    expect(child.attributes["user.id"]).toBe("42");
  });

  it("a failing handler: the span's status is ERROR with error.type", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    expect((await fetch(`${app.base}/fail`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } })).status).toBe(500);
    const [span] = await printed(traceId, 1);
    expect(span).toMatchObject({ name: "GET /fail", kind: "SERVER", status: "ERROR" });
    expect(span!.attributes["error.type"]).toBe("Error");
  });
});
