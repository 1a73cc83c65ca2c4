// serveStatic never serves anything outside its root: a table of traversal attempts sent
// byte-exact over raw TCP (node:net, so no client normalizes the path), standalone and
// behind the Router's *rest, each asserting the status and that the secret beside the root
// never appears in the response.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Router, serveStatic } from "../host/index.js";
import { header, parseResponses, startServer, type TestServer } from "./support/server-harness.js";
import { makeStaticFixture, type StaticFixture } from "./support/static-fixture.js";

let fx: StaticFixture;
let standalone: TestServer;
let routed: TestServer;

beforeAll(async () => {
  fx = makeStaticFixture(64 * 1024);
  standalone = await startServer("serve", serveStatic(fx.root));
  const router = new Router().get("/static/*path", serveStatic(fx.root)).mount("/m", new Router().get("/files/*rest", serveStatic(fx.root)));
  routed = await startServer("serve", router.route);
});
afterAll(async () => {
  await standalone?.close();
  await routed?.close();
  fx?.remove();
});

/** Sends one request with `target` exactly as given, returns the response and every byte received. */
async function rawGet(server: TestServer, target: string): Promise<{ status: number; body: string; received: string; location: string | undefined }> {
  const received = await server.rawRequest(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  const [response] = parseResponses(received, { eof: true }).responses;
  if (!response) throw new Error(`no response to ${JSON.stringify(target)}: ${JSON.stringify(received.toString("latin1"))}`);
  return { status: response.status, body: response.body.toString("latin1"), received: received.toString("latin1"), location: header(response, "location") };
}

// [what, request-target, expected status]. 404: names nothing under the root; 400: a
// malformed percent-encoding (or bytes the parser refuses before any handler runs).
const STANDALONE: [string, number, () => string][] = [
  ["plain ..", 404, () => "/../secret.txt"],
  ["deep ..", 404, () => "/../../../../../../etc/passwd"],
  ["%2e%2e", 404, () => "/%2e%2e/secret.txt"],
  ["%2E%2E upper case", 404, () => "/%2E%2E/secret.txt"],
  ["half-encoded .%2e", 404, () => "/.%2e/secret.txt"],
  ["half-encoded %2e.", 404, () => "/%2e./secret.txt"],
  ["encoded slash ..%2f", 404, () => "/..%2fsecret.txt"],
  ["encoded slash ..%2F", 404, () => "/..%2Fsecret.txt"],
  ["all encoded %2e%2e%2f", 404, () => "/%2e%2e%2f%2e%2e%2fsecret.txt"],
  ["encoded backslash ..%5c", 404, () => "/..%5csecret.txt"],
  ["encoded backslashes %2e%2e%5c", 404, () => "/%2e%2e%5c%2e%2e%5csecret.txt"],
  ["double-encoded dots %252e%252e", 404, () => "/%252e%252e/secret.txt"],
  ["double-encoded slash %252f", 404, () => "/%252e%252e%252fsecret.txt"],
  ["double-encoded slash after .. (..%252f)", 404, () => "/..%252fsecret.txt"],
  ["double-encoded backslash ..%255c", 404, () => "/..%255csecret.txt"],
  ["overlong UTF-8 dots %c0%ae", 400, () => "/%c0%ae%c0%ae/secret.txt"],
  ["IIS %u002e", 400, () => "/%u002e%u002e/secret.txt"],
  ["encoded NUL after a name", 404, () => "/hello.txt%00.png"],
  ["encoded NUL alone", 404, () => "/hello.txt%00"],
  ["encoded NUL in ..", 404, () => "/..%00/secret.txt"],
  ["empty segment //", 404, () => "//etc/passwd"],
  ["absolute path of the secret", 404, () => `/${fx.base}/secret.txt`.replace("//", "/")],
  ["encoded leading slash (absolute)", 404, () => `/%2F${encodeURIComponent(fx.base.slice(1))}%2Fsecret.txt`],
  ["Windows drive letter", 404, () => "/C:/Windows/win.ini"],
  ["Windows drive with encoded backslashes", 404, () => "/C:%5CWindows%5Cwin.ini"],
  ["symlink to a file outside", 404, () => "/link-out"],
  ["relative symlink outside", 404, () => "/link-out-relative.txt"],
  ["through a symlinked directory outside", 404, () => "/dirlink-out/secret.txt"],
  ["symlink to a sibling folder sharing the root's prefix", 404, () => "/link-sibling/secret.txt"],
  ["single dot segment", 404, () => "/./hello.txt"],
  ["down then up past the root", 404, () => "/sub/../../secret.txt"],
  ["down then encoded up", 404, () => "/sub/..%2f..%2fsecret.txt"],
  ["absolute-form target with ..", 404, () => "http://127.0.0.1/../secret.txt"],
  ["Tomcat-style ..;", 404, () => "/..;/secret.txt"],
  ["dotfile", 404, () => "/.env"],
  ["dot directory", 404, () => "/.hidden/inner.txt"],
  ["encoded dotfile", 404, () => "/%2eenv"],
  ["symlink to a dotfile inside", 404, () => "/link-to-dotfile.txt"],
  ["a file as a directory", 404, () => "/hello.txt/"],
  ["raw backslash", 404, () => "/..\\secret.txt"],
  ["raw backslashes after a name", 404, () => "/sub\\..\\..\\secret.txt"],
  // The parser refuses these before any handler runs.
  ["raw NUL", 400, () => "/hello.txt\0.png"],
  ["asterisk-form (only OPTIONS may use it)", 400, () => "*"],
];

describe("serveStatic standalone: traversal attempts over raw TCP", () => {
  it.each(STANDALONE)("%s → %i, no secret", async (_what, status, target) => {
    const r = await rawGet(standalone, target());
    expect(r.status).toBe(status);
    expect(r.received).not.toContain(fx.secret);
  });

  it("the controls are served (so the table can fail)", async () => {
    expect((await rawGet(standalone, "/hello.txt")).body).toBe(fx.hello);
    expect((await rawGet(standalone, "/link-in.txt")).body).toBe(fx.hello);
    expect((await rawGet(standalone, "/%68ello.txt")).body).toBe(fx.hello);
    // Decoded once: "%252e%252e" names the file literally called "%2e%2e".
    expect((await rawGet(standalone, "/%252e%252e")).body).toBe("literally percent-2e-percent-2e\n");
  });
});

const ROUTED: [string, string, number][] = [
  ["plain ..", "/static/../secret.txt", 404],
  ["%2e%2e", "/static/%2e%2e/secret.txt", 404],
  ["encoded slash: *rest decodes to ../secret.txt", "/static/..%2fsecret.txt", 404],
  ["all encoded", "/static/%2e%2e%2f%2e%2e%2fsecret.txt", 404],
  ["encoded backslash", "/static/..%5csecret.txt", 404],
  ["double-encoded", "/static/%252e%252e%252fsecret.txt", 404],
  ["encoded NUL", "/static/hello.txt%00.png", 404],
  ["empty segment in the rest", "/static//etc/passwd", 404],
  ["symlink outside", "/static/link-out", 404],
  ["symlinked directory outside", "/static/dirlink-out/secret.txt", 404],
  ["down then encoded up", "/static/sub/..%2f..%2fsecret.txt", 404],
  ["encoded slash inside the root (a%2Fb is not a/b)", "/static/sub%2fpage.txt", 404],
  ["dotfile", "/static/.env", 404],
  ["mounted: ..", "/m/files/../../secret.txt", 404],
  ["mounted: %2e%2e%2f", "/m/files/%2e%2e%2fsecret.txt", 404],
  ["mounted: symlink outside", "/m/files/link-out", 404],
];

describe("serveStatic behind the Router's *rest: traversal attempts over raw TCP", () => {
  it.each(ROUTED)("%s (%s) → %i, no secret", async (_what, target, status) => {
    const r = await rawGet(routed, target);
    expect(r.status).toBe(status);
    expect(r.received).not.toContain(fx.secret);
  });

  it("the controls are served, and directories redirect within the prefix", async () => {
    expect((await rawGet(routed, "/static/hello.txt")).body).toBe(fx.hello);
    expect((await rawGet(routed, "/static/sub/page.txt")).body).toBe("a page in sub\n");
    expect((await rawGet(routed, "/m/files/sub/page.txt")).body).toBe("a page in sub\n");
    const r = await rawGet(routed, "/static/sub?x=1");
    expect([r.status, r.location]).toEqual([301, "/static/sub/?x=1"]);
    expect((await rawGet(routed, "/static/")).body).toContain("root index");
  });
});
