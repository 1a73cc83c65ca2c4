// Incremental feeding is linear (wit/tophat.wit, `parse-head`): a host that calls the core
// again only when the bytes it has not searched yet may end the head does work linear in
// the head's size, however the head is split. Measured as bytes handed to the core (what
// it scans), not time: through the documented loop over the thin binding, and through a
// real connection fed a byte at a time over a socket.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Core, DEFAULT_LIMITS, mayEndHead, type Limits, type ParseOutcome } from "../host/core.js";
import { accept } from "../host/index.js";

/** A head of about 16 KiB: a request line, Host and 60 long fields. */
function bigHead(): Buffer {
  const lines = ["GET /feed HTTP/1.1", "Host: example.test"];
  for (let i = 0; lines.join("\r\n").length < 16_000; i++) lines.push(`X-Field-${i}: ${"v".repeat(250)}`);
  return Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
}

/** A core whose parseHead counts the bytes it is handed. */
function countingCore(): { core: Core; scanned: () => number; calls: () => number } {
  const core = Core.load();
  const parse = core.parseHead.bind(core);
  let scanned = 0;
  let calls = 0;
  core.parseHead = (bytes: Uint8Array, limits: Limits): ParseOutcome => {
    scanned += bytes.length;
    calls++;
    return parse(bytes, limits);
  };
  return { core, scanned: () => scanned, calls: () => calls };
}

describe("a 16 KiB head fed one byte at a time", () => {
  const head = bigHead();
  const n = head.length;

  it("the documented host loop hands the core O(n) bytes (calling on every read: O(n²))", () => {
    const { core, scanned, calls } = countingCore();
    let have = 0;
    let searchFrom = 0;
    let out: ParseOutcome | undefined;
    for (let read = 1; read <= n; read++) {
      const searched = have;
      have = read;
      const bytes = head.subarray(0, have);
      // The rule from the WIT: the first read, the limit, or a possible empty line in the
      // bytes not searched yet.
      if (searched === 0 || have >= DEFAULT_LIMITS.maxHeadBytes || mayEndHead(bytes, Math.max(searchFrom, searched - 2))) {
        out = core.parseHead(bytes, DEFAULT_LIMITS);
        if (out.tag !== "incomplete") break;
        searchFrom = out.val;
      }
    }
    expect(out?.tag).toBe("complete");
    expect(calls()).toBe(2); // the first byte, and the byte that ended the head
    expect(scanned()).toBe(n + 1);

    // What the rule saves: calling on every read scans n(n+1)/2 bytes.
    const naive = countingCore();
    for (let have = 1; have <= n; have++) naive.core.parseHead(head.subarray(0, have), DEFAULT_LIMITS);
    expect(naive.scanned()).toBe((n * (n + 1)) / 2);
  });

  describe("through a connection over a socket", () => {
    let server: net.Server;
    let port = 0;
    const counting = countingCore();

    beforeAll(async () => {
      server = net.createServer((socket) => {
        void accept(socket, async (req, res) => res.setText(`${req.headers.get("x-field-59")?.length ?? 0}\n`).send(), { core: counting.core });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("is answered, and the core is handed fewer than 3n bytes", async () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.setNoDelay(true);
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      const answer = new Promise<string>((resolve, reject) => {
        let text = "";
        socket.setEncoding("latin1");
        socket.on("data", (d: string) => (text += d));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
      // One byte per write, each after the previous one was handed to the kernel, so the
      // server sees many small reads (loopback may still merge some).
      for (let i = 0; i < n; i++) {
        if (!socket.write(head.subarray(i, i + 1))) await new Promise((resolve) => socket.once("drain", resolve));
        if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      socket.end();
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text.slice(text.indexOf("\r\n\r\n") + 4)).toBe("250\n");
      expect(counting.scanned()).toBeGreaterThanOrEqual(n);
      // The parse that finds the end (n), plus those when the bytes had doubled (under 2n).
      expect(counting.scanned()).toBeLessThan(3 * n);
    }, 60_000);
  });
});
