// Request bodies over real sockets: urlencoded forms (req.form), multipart/form-data
// (req.multipart) from curl -F, Node's FormData and hand-written bodies on raw sockets,
// every multipart limit answering 413 with its name, 415/400 for the wrong type or a bad
// boundary, a handler that stops early, and the streamed body's cap (req.stream).
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { serve, type ConnectionOptions, type Handler, type MultipartOptions, type Server } from "../host/index.js";
import { RawClient, rawRequest, sleep, until, type RawResponse } from "./support/limits-client.js";
import { curl } from "./support/server-harness.js";
import { skipWithout } from "./support/tools.js";

let server: Server | undefined;
afterEach(async () => {
  await server?.close({ graceMs: 0 });
  server = undefined;
});

async function start(handler: Handler, options: ConnectionOptions = {}): Promise<Server> {
  server = await serve(handler, { port: 0, ...options });
  return server;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

type Seen = { field: string; value: string; mimeType: string } | { file: string; filename: string | undefined; mimeType: string; size: number; sha256: string };

/** Answers with every part it read: fields as they came, files by size and hash. */
function echoParts(options?: MultipartOptions): Handler {
  return async (req, res) => {
    const seen: Seen[] = [];
    for await (const part of req.multipart(options)) {
      if (part.kind === "field") {
        seen.push({ field: part.name, value: part.value, mimeType: part.mimeType });
        continue;
      }
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of part.stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        hash.update(chunk);
      }
      seen.push({ file: part.name, filename: part.filename, mimeType: part.mimeType, size, sha256: hash.digest("hex") });
    }
    return res.setJson(seen).send();
  };
}

const BOUNDARY = "----tophat-test-boundary";

/** A multipart/form-data body from parts, as a browser would frame it (RFC 7578). */
function multipartBody(parts: { name?: string; filename?: string; type?: string; headers?: string[]; content: string | Buffer }[], boundary = BOUNDARY, close = true): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    let disposition = "Content-Disposition: form-data";
    if (part.name !== undefined) disposition += `; name="${part.name}"`;
    if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
    const lines = [`--${boundary}`, disposition, ...(part.type ? [`Content-Type: ${part.type}`] : []), ...(part.headers ?? []), "", ""];
    pieces.push(Buffer.from(lines.join("\r\n"), "utf8"), Buffer.from(part.content), Buffer.from("\r\n"));
  }
  if (close) pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

function post(pathname: string, contentType: string | undefined, body: Buffer | string, extra = ""): Buffer {
  const bytes = Buffer.from(body);
  const type = contentType === undefined ? "" : `Content-Type: ${contentType}\r\n`;
  return Buffer.concat([Buffer.from(`POST ${pathname} HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n${type}Content-Length: ${bytes.length}\r\n${extra}\r\n`), bytes]);
}

const problem = (res: RawResponse): Record<string, unknown> => {
  expect(res.headers["content-type"]).toBe("application/problem+json");
  return JSON.parse(res.body.toString()) as Record<string, unknown>;
};

async function rawOnce(port: number, request: Buffer): Promise<RawResponse> {
  const { res, client } = await rawRequest(port, request);
  client.destroy();
  return res;
}

describe("req.form(): application/x-www-form-urlencoded", () => {
  const echoForm: Handler = async (req, res) => res.setJson([...(await req.form())]).send();

  it("reads a form sent by fetch as URLSearchParams, repeated names in order", async () => {
    const s = await start(echoForm);
    const body = new URLSearchParams([["name", "Ada Lovelace"], ["lang", "en"], ["lang", "fr"], ["note", "a+b=c&d é"]]);
    const res = await fetch(`${s.url}/`, { method: "POST", body });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual([["name", "Ada Lovelace"], ["lang", "en"], ["lang", "fr"], ["note", "a+b=c&d é"]]);
  });

  it("decodes percent-escapes as URLSearchParams does: a malformed one stays, a non-UTF-8 one becomes U+FFFD", async () => {
    const s = await start(echoForm);
    const res = await rawOnce(s.port, post("/", "application/x-www-form-urlencoded; charset=UTF-8", "a=%zz&b=%C3%28&c=x+y&d=%E2%82%AC&e"));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual([["a", "%zz"], ["b", "\uFFFD("], ["c", "x y"], ["d", "€"], ["e", ""]]);
  });

  it("415 naming the type expected for another Content-Type or none; 400 for raw bytes that aren't UTF-8; 413 over maxBodyBytes", async () => {
    const s = await start(echoForm, { maxBodyBytes: 64 });
    const json = await rawOnce(s.port, post("/", "application/json", '{"a":1}'));
    expect(json.status).toBe(415);
    expect(problem(json)).toEqual({
      type: "about:blank",
      title: "Unsupported Media Type",
      status: 415,
      detail: "the request body must be application/x-www-form-urlencoded: it is application/json",
      expected: "application/x-www-form-urlencoded",
    });
    const none = await rawOnce(s.port, post("/", undefined, "a=1"));
    expect([none.status, problem(none)["detail"]]).toEqual([415, "the request body must be application/x-www-form-urlencoded: the request has no Content-Type"]);
    const garbage = await rawOnce(s.port, post("/", "not a type", "a=1"));
    expect([garbage.status, problem(garbage)["detail"]]).toEqual([415, "the request body must be application/x-www-form-urlencoded: its Content-Type can't be parsed"]);
    const latin1 = await rawOnce(s.port, post("/", "application/x-www-form-urlencoded", Buffer.from("a=caf\xe9", "latin1")));
    expect([latin1.status, problem(latin1)["detail"]]).toEqual([400, "the request body is not valid UTF-8"]);
    const big = await rawOnce(s.port, post("/", "application/x-www-form-urlencoded", `a=${"x".repeat(100)}`));
    expect(big.status).toBe(413);
  });
});

describe("req.multipart(): multipart/form-data", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "tophat-multipart-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(skipWithout("curl", "multipart uploads from curl -F"))("reads fields and files sent by curl -F, files streamed in order with their names and types", async () => {
    const s = await start(echoParts());
    const text = path.join(dir, "notes.txt");
    writeFileSync(text, "first line\nsecond line\n");
    const binary = path.join(dir, "data.bin");
    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(binary, bytes);
    const result = await curl(["-F", "title=Résumé", "-F", `notes=@${text}`, "-F", `data=@${binary};type=application/x-test`, "-F", "empty=", `${s.url}/upload`]);
    expect(result.code, result.stderr).toBe(0);
    // The harness reads curl's output as latin1 bytes.
    expect(JSON.parse(Buffer.from(result.stdout, "latin1").toString("utf8"))).toEqual([
      { field: "title", value: "Résumé", mimeType: "text/plain" },
      { file: "notes", filename: "notes.txt", mimeType: "text/plain", size: 23, sha256: sha256(Buffer.from("first line\nsecond line\n")) },
      { file: "data", filename: "data.bin", mimeType: "application/x-test", size: 300_000, sha256: sha256(bytes) },
      { field: "empty", value: "", mimeType: "text/plain" },
    ]);
  });

  it("reads Node's FormData sent by fetch (fields, Blobs, a UTF-8 file name)", async () => {
    const s = await start(echoParts());
    const form = new FormData();
    form.append("name", "Grace");
    form.append("avatar", new Blob([Buffer.from("PNG-ish bytes")], { type: "image/png" }), "été/avatar.png");
    form.append("tags", "a");
    form.append("tags", "b");
    const big = Buffer.alloc(2 * 1024 * 1024, 0x5a);
    form.append("big", new Blob([big]), "big.bin");
    const res = await fetch(`${s.url}/upload`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { field: "name", value: "Grace", mimeType: "text/plain" },
      // busboy keeps the last path segment of a file name: a client's directories never leak in.
      { file: "avatar", filename: "avatar.png", mimeType: "image/png", size: 13, sha256: sha256(Buffer.from("PNG-ish bytes")) },
      { field: "tags", value: "a", mimeType: "text/plain" },
      { field: "tags", value: "b", mimeType: "text/plain" },
      { file: "big", filename: "big.bin", mimeType: "application/octet-stream", size: big.length, sha256: sha256(big) },
    ]);
    const utf8 = new FormData();
    utf8.append("f", new Blob(["x"]), "naïve ☃.txt");
    expect(await (await fetch(`${s.url}/upload`, { method: "POST", body: utf8 })).json()).toMatchObject([{ file: "f", filename: "naïve ☃.txt" }]);
  });

  it("skips a file nobody reads and a file whose stream the handler destroyed, and goes on with the form", async () => {
    const s = await start(async (req, res) => {
      const names: string[] = [];
      for await (const part of req.multipart()) {
        names.push(`${part.kind}:${part.name}`);
        if (part.kind === "file" && part.name === "destroyed") part.stream.destroy();
      }
      return res.setJson(names).send();
    });
    const body = multipartBody([
      { name: "ignored", filename: "a.bin", content: Buffer.alloc(500_000, 1) },
      { name: "between", content: "x" },
      { name: "destroyed", filename: "b.bin", content: Buffer.alloc(500_000, 2) },
      { name: "last", content: "y" },
    ]);
    const res = await rawOnce(s.port, post("/", `multipart/form-data; boundary=${BOUNDARY}`, body));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual(["file:ignored", "field:between", "file:destroyed", "field:last"]);
  });

  it("415 for another media type or none, 400 for a missing or invalid boundary, naming what is wrong", async () => {
    const s = await start(echoParts());
    const body = multipartBody([{ name: "a", content: "1" }]);
    const cases: [string | undefined, number, string][] = [
      ["application/x-www-form-urlencoded", 415, "the request body must be multipart/form-data: it is application/x-www-form-urlencoded"],
      [undefined, 415, "the request body must be multipart/form-data: the request has no Content-Type"],
      ["multipart/mixed; boundary=x", 415, "the request body must be multipart/form-data: it is multipart/mixed"],
      ["multipart/form-data", 400, "the multipart/form-data Content-Type has no boundary parameter"],
      [`multipart/form-data; boundary=${"b".repeat(71)}`, 400, "the multipart/form-data boundary is invalid: 1 to 70 characters of RFC 2046 §5.1.1, not ending with a space"],
      ['multipart/form-data; boundary="ends with space "', 400, "the multipart/form-data boundary is invalid: 1 to 70 characters of RFC 2046 §5.1.1, not ending with a space"],
    ];
    for (const [type, status, detail] of cases) {
      const res = await rawOnce(s.port, post("/", type, body));
      expect([res.status, problem(res)["detail"]], String(type)).toEqual([status, detail]);
    }
  });

  it("a refused multipart() leaves the body to the handler (it can fall back to another reading)", async () => {
    const s = await start(async (req, res) => {
      try {
        req.multipart();
      } catch (error) {
        return res.setText(`${(error as { status?: number }).status} then ${await req.text()}`).send();
      }
      return res.sendCode(204);
    });
    const res = await rawOnce(s.port, post("/", "text/plain", "plain words"));
    expect(res.body.toString()).toBe("415 then plain words");
  });

  it("400 for malformed bodies: cut before the closing delimiter, a broken part header, a part without a name, a file cut short", async () => {
    const s = await start(echoParts());
    const type = `multipart/form-data; boundary=${BOUNDARY}`;
    const unclosed = await rawOnce(s.port, post("/", type, multipartBody([{ name: "a", content: "1" }], BOUNDARY, false)));
    expect([unclosed.status, problem(unclosed)["detail"]]).toEqual([400, "the multipart/form-data body is malformed: Unexpected end of form"]);
    const badHeader = await rawOnce(s.port, post("/", type, multipartBody([{ name: "a", headers: ["Bad Header Line"], content: "1" }])));
    expect([badHeader.status, problem(badHeader)["detail"]]).toEqual([400, "the multipart/form-data body is malformed: Malformed part header"]);
    const nameless = await rawOnce(s.port, post("/", type, multipartBody([{ content: "1" }])));
    expect([nameless.status, problem(nameless)["detail"]]).toEqual([400, "a multipart/form-data part has no name (RFC 7578 §4.2)"]);
    const cutFile = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n`), Buffer.alloc(1000, 3)]);
    const cut = await rawOnce(s.port, post("/", type, cutFile));
    expect(cut.status).toBe(400);
    // The file's stream and the form fail together; whichever reaches the handler first is answered.
    expect(problem(cut)["detail"]).toMatch(/^the multipart\/form-data body is malformed: Unexpected end of (file|form)$/);
    const empty = await rawOnce(s.port, post("/", type, ""));
    expect(empty.status).toBe(400);
  });

  describe("limits: 413 naming the limit", () => {
    const type = `multipart/form-data; boundary=${BOUNDARY}`;
    const cases: { limit: keyof MultipartOptions; max: number; ok: Parameters<typeof multipartBody>[0]; over: Parameters<typeof multipartBody>[0]; detail: string }[] = [
      {
        limit: "maxFileBytes",
        max: 1000,
        ok: [{ name: "f", filename: "f.bin", content: Buffer.alloc(1000) }],
        over: [{ name: "f", filename: "f.bin", content: Buffer.alloc(1001) }],
        detail: "the form has a file larger than 1000 bytes (maxFileBytes: 1000)",
      },
      {
        limit: "maxFiles",
        max: 2,
        ok: [1, 2].map((i) => ({ name: `f${i}`, filename: `${i}.txt`, content: "x" })),
        over: [1, 2, 3].map((i) => ({ name: `f${i}`, filename: `${i}.txt`, content: "x" })),
        detail: "the form has more than 2 files (maxFiles: 2)",
      },
      {
        limit: "maxFields",
        max: 3,
        ok: [1, 2, 3].map((i) => ({ name: `a${i}`, content: "x" })),
        over: [1, 2, 3, 4].map((i) => ({ name: `a${i}`, content: "x" })),
        detail: "the form has more than 3 fields (maxFields: 3)",
      },
      {
        limit: "maxFieldBytes",
        max: 10,
        ok: [{ name: "a", content: "0123456789" }],
        over: [{ name: "a", content: "0123456789A" }],
        detail: "the form has a field larger than 10 bytes (maxFieldBytes: 10)",
      },
      {
        limit: "maxParts",
        max: 3,
        ok: [{ name: "a", content: "x" }, { name: "f", filename: "f", content: "y" }, { name: "b", content: "z" }],
        over: [{ name: "a", content: "x" }, { name: "f", filename: "f", content: "y" }, { name: "b", content: "z" }, { name: "c", content: "w" }],
        detail: "the form has more than 3 parts (maxParts: 3)",
      },
    ];
    for (const c of cases) {
      it(`${c.limit}: at the limit passes, one over is 413 with limit "${c.limit}"`, async () => {
        const s = await start(echoParts({ [c.limit]: c.max }));
        const ok = await rawOnce(s.port, post("/", type, multipartBody(c.ok)));
        expect(ok.status, ok.body.toString()).toBe(200);
        const over = await rawOnce(s.port, post("/", type, multipartBody(c.over)));
        expect(over.status).toBe(413);
        expect(problem(over)).toEqual({ type: "about:blank", title: "Content Too Large", status: 413, detail: c.detail, limit: c.limit, max: c.max });
      });
    }

    it("maxParts counts parts without a form-data disposition too (busboy skips them)", async () => {
      const s = await start(echoParts({ maxParts: 2 }));
      const raw = Buffer.from(
        [`--${BOUNDARY}`, "X-Nothing: 1", "", "skipped", `--${BOUNDARY}`, "Content-Disposition: attachment", "", "skipped", `--${BOUNDARY}`, "Content-Disposition: inline", "", "skipped", `--${BOUNDARY}--`, ""].join("\r\n"),
      );
      const over = await rawOnce(s.port, post("/", type, raw));
      expect([over.status, problem(over)["limit"]]).toEqual([413, "maxParts"]);
    });

    it("maxBytes: a Content-Length over it is refused before the body is sent; a chunked body is cut off once over it", async () => {
      let reached = 0;
      const s = await start(async (req, res) => {
        reached++;
        return echoParts({ maxBytes: 1000 })(req, res);
      });
      const c = await RawClient.connect(s.port);
      // Only the head: the answer can't wait for a body that never comes.
      await c.write(`POST / HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\nContent-Type: ${type}\r\nContent-Length: 5000000\r\n\r\n`);
      const early = await c.response();
      expect([early.status, problem(early)]).toEqual([413, { type: "about:blank", title: "Content Too Large", status: 413, detail: "the request body is larger than 1000 bytes (maxBytes)", limit: "maxBytes", max: 1000 }]);
      // Unread and larger than maxDrainBytes: the connection closes after the answer.
      expect(early.headers["connection"]).toBe("close");
      await c.closed();
      c.destroy();
      const body = multipartBody([{ name: "f", filename: "f", content: Buffer.alloc(5000) }]);
      const chunked = Buffer.concat([
        Buffer.from(`POST / HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`),
        body,
        Buffer.from("\r\n0\r\n\r\n"),
      ]);
      const cut = await rawOnce(s.port, chunked);
      expect([cut.status, problem(cut)["limit"]]).toEqual([413, "maxBytes"]);
      expect(reached).toBe(2);
    });

    it("the file stream itself fails with the 413 (a handler piping it somewhere sees the error)", async () => {
      let streamError: unknown;
      let got = 0;
      const s = await start(async (req, res) => {
        for await (const part of req.multipart({ maxFileBytes: 100_000 })) {
          if (part.kind !== "file") continue;
          try {
            for await (const chunk of part.stream as AsyncIterable<Buffer>) got += chunk.length;
          } catch (error) {
            streamError = error;
            throw error;
          }
        }
        return res.sendCode(204);
      });
      const over = await rawOnce(s.port, post("/", type, multipartBody([{ name: "f", filename: "f", content: Buffer.alloc(300_000) }])));
      expect([over.status, problem(over)["limit"]]).toEqual([413, "maxFileBytes"]);
      expect((streamError as { status?: number }).status).toBe(413);
      // busboy reads one byte past the limit to tell "exactly" from "over".
      expect(got).toBeLessThanOrEqual(100_001);
    });
  });

  it("a client that goes away mid-upload: the file's stream and the iterator fail with ClientClosedError, nothing is logged as an error", async () => {
    const errors: unknown[] = [];
    let seen: unknown;
    let reading = false;
    const s = await start(
      async (req, res) => {
        try {
          for await (const part of req.multipart()) {
            if (part.kind !== "file") continue;
            reading = true;
            for await (const chunk of part.stream as AsyncIterable<Buffer>) void chunk;
          }
        } catch (error) {
          seen = error;
          throw error;
        }
        return res.sendCode(204);
      },
      { logger: { warn: (...args: unknown[]) => errors.push(args), error: (...args: unknown[]) => errors.push(args) } },
    );
    const body = multipartBody([{ name: "f", filename: "f.bin", content: Buffer.alloc(1_000_000) }]);
    const c = await RawClient.connect(s.port);
    await c.write(post("/", `multipart/form-data; boundary=${BOUNDARY}`, body).subarray(0, 300_000));
    await until(() => reading, 5000, "the handler to read the file");
    c.socket.resetAndDestroy();
    await until(() => seen !== undefined, 5000, "the handler to see the failure");
    expect((seen as Error | undefined)?.name).toBe("ClientClosedError");
    await sleep(50);
    expect(errors).toEqual([]);
  });

  describe("a handler that stops early", () => {
    const stopAfterFirst: Handler = async (req, res) => {
      for await (const part of req.multipart()) {
        return res.setText(`first: ${part.name}`).send();
      }
      return res.setText("no parts").send();
    };

    it("a small rest is skipped and the connection serves the next request", async () => {
      const s = await start(stopAfterFirst);
      const body = multipartBody([{ name: "a", content: "1" }, { name: "f", filename: "f", content: Buffer.alloc(50_000, 7) }, { name: "b", content: "2" }]);
      const c = await RawClient.connect(s.port);
      await c.write(Buffer.concat([post("/", `multipart/form-data; boundary=${BOUNDARY}`, body), post("/", `multipart/form-data; boundary=${BOUNDARY}`, body)]));
      const first = await c.response();
      const second = await c.response();
      expect([first.status, first.body.toString(), first.headers["connection"]]).toEqual([200, "first: a", undefined]);
      expect([second.status, second.body.toString()]).toEqual([200, "first: a"]);
      c.destroy();
    });

    it("a rest larger than maxDrainBytes closes the connection after the response (Connection: close)", async () => {
      const s = await start(stopAfterFirst, { maxDrainBytes: 64 * 1024 });
      const body = multipartBody([{ name: "a", content: "1" }, { name: "f", filename: "f", content: Buffer.alloc(4 * 1024 * 1024, 7) }]);
      const c = await RawClient.connect(s.port);
      const writing = c.write(post("/", `multipart/form-data; boundary=${BOUNDARY}`, body)).catch(() => undefined);
      const res = await c.response();
      expect([res.status, res.body.toString(), res.headers["connection"]]).toEqual([200, "first: a", "close"]);
      await c.closed();
      c.destroy();
      await writing;
    });
  });
});

describe("req.stream({ maxBytes }): a capped streamed body", () => {
  const count: Handler = async (req, res) => {
    let n = 0;
    for await (const chunk of req.stream({ maxBytes: 100_000 })) n += chunk.length;
    return res.setText(String(n)).send();
  };

  it("passes a body within the cap, with or without Content-Length", async () => {
    const s = await start(count);
    expect(await (await fetch(`${s.url}/`, { method: "POST", body: Buffer.alloc(100_000) })).text()).toBe("100000");
    const chunked = await rawOnce(s.port, Buffer.from(`POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`));
    expect(chunked.body.toString()).toBe("5");
  });

  it("413 before reading for a Content-Length over the cap; 413 once a chunked body goes over it", async () => {
    const s = await start(count);
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\nContent-Length: 100001\r\n\r\n");
    const early = await c.response();
    expect([early.status, problem(early)]).toEqual([413, { type: "about:blank", title: "Content Too Large", status: 413, detail: "the request body is larger than 100000 bytes (maxBytes)", limit: "maxBytes", max: 100_000 }]);
    c.destroy();
    const piece = Buffer.alloc(60_000, 0x61);
    const chunk = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]);
    const over = await rawOnce(s.port, Buffer.concat([Buffer.from("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), chunk, chunk, Buffer.from("0\r\n\r\n")]));
    expect(over.status).toBe(413);
    expect(over.body.toString()).toBe("the request body is larger than 100000 bytes (maxBytes)\n");
  });
});
