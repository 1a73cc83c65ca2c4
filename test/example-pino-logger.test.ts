// examples/pino-logger.js, started as a process: pino's JSON lines for a request, a handler
// error and a client that went away.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";
import { sleep, until } from "./support/server-harness.js";

interface PinoLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const INFO = 30;
const ERROR = 50;

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/pino-logger.js");
});
afterAll(() => app.stop());

const parsed = (): PinoLine[] => app.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as PinoLine);

describe("examples/pino-logger.js", () => {
  it("a request: one access-log line at info with the entry's fields", async () => {
    expect(await (await fetch(`${app.base}/hello`)).text()).toBe("hello\n");
    await until(() => parsed().some((l) => l["target"] === "/hello"), "the access-log line");
    const line = parsed().find((l) => l["target"] === "/hello")!;
    expect(line).toMatchObject({ level: INFO, method: "GET", status: 200, outcome: "complete" });
    expect(line.msg).toMatch(/^GET \/hello 200 \d+B /);
  });

  it("a handler error: the error at error level with err (message and stack), and the 500 at info", async () => {
    expect((await fetch(`${app.base}/broken`)).status).toBe(500);
    await until(() => parsed().some((l) => l.level === ERROR) && parsed().some((l) => l["target"] === "/broken"), "the error and the access line");
    const errors = parsed().filter((l) => l.level === ERROR);
    expect(errors.length).toBe(1);
    expect(errors[0]!.msg).toBe("tophat: the handler for GET /broken failed; sent 500");
    expect(errors[0]!["err"]).toMatchObject({ type: "Error", message: "the database is on fire" });
    expect(String((errors[0]!["err"] as { stack: string }).stack)).toContain("pino-logger.js");
    expect(parsed().find((l) => l["target"] === "/broken")).toMatchObject({ level: INFO, status: 500, outcome: "complete" });
  });

  it("a client that went away: client-closed at info, nothing at error", async () => {
    const before = parsed().filter((l) => l.level === ERROR).length;
    const socket = net.connect({ port: app.port, host: "127.0.0.1" });
    socket.on("error", () => undefined);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    await sleep(100);
    socket.resetAndDestroy();
    await until(() => parsed().some((l) => l["target"] === "/slow"), "the access-log line");
    const line = parsed().find((l) => l["target"] === "/slow")!;
    expect(line).toMatchObject({ level: INFO, outcome: "client-closed", status: 499, bytes: 0 });
    await sleep(2_200); // the handler answers late; its send fails quietly
    expect(parsed().filter((l) => l.level === ERROR).length).toBe(before);
    expect(parsed().filter((l) => l.level === 40)).toEqual([]);
  });
});
