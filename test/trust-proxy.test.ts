// trustProxy: req.clientIp, req.protocol and req.host from Forwarded / X-Forwarded-* only
// when the peer is a listed proxy — raw sockets over real TCP, with spoofed fields.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { accept, serve, type Server, type ServeOptions } from "../host/index.js";

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Seen {
  clientIp: string | undefined;
  protocol: string;
  host: string | undefined;
  remoteAddress: string | undefined;
}

async function start(options: ServeOptions): Promise<Server> {
  return (server = await serve(
    async (req, res) => res.setJson({ clientIp: req.clientIp, protocol: req.protocol, host: req.host, remoteAddress: req.remoteAddress }).send(),
    options,
  ));
}

/** Sends one request with `fields` (raw lines) from a raw socket and returns what the handler saw. */
async function ask(fields: string[], { host = "127.0.0.1", port = server!.port, target = "/" } = {}): Promise<Seen> {
  const socket = net.connect(port, host);
  socket.write(`GET ${target} HTTP/1.1\r\nHost: app.test:8080\r\n${fields.map((f) => `${f}\r\n`).join("")}Connection: close\r\n\r\n`);
  let reply = "";
  await new Promise<void>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => (reply += chunk.toString("utf8")));
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
  expect(reply).toMatch(/^HTTP\/1\.1 200 /);
  return JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)) as Seen;
}

const SPOOFED = ["X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example", "Forwarded: for=198.51.100.1;proto=https;host=evil.example"];

describe("without a trusted peer, forwarding fields are ignored", () => {
  it("no trustProxy: the socket's address, http, the Host", async () => {
    await start({});
    expect(await ask(SPOOFED)).toEqual({ clientIp: "127.0.0.1", protocol: "http", host: "app.test:8080", remoteAddress: "127.0.0.1" });
  });

  it("a trustProxy list that doesn't hold the peer (127.0.0.1)", async () => {
    await start({ trustProxy: ["10.0.0.0/8", "192.168.1.1", "::1"] });
    expect(await ask(SPOOFED)).toEqual({ clientIp: "127.0.0.1", protocol: "http", host: "app.test:8080", remoteAddress: "127.0.0.1" });
  });

  it("an absolute-form target's authority wins over Host", async () => {
    await start({});
    expect((await ask([], { target: "http://other.test/x" })).host).toBe("other.test");
  });
});

describe("X-Forwarded-* from a trusted peer", () => {
  it("a trusted peer's X-Forwarded-For, -Proto and -Host are believed", async () => {
    await start({ trustProxy: ["127.0.0.1"] });
    expect(await ask(["X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: api.example"])).toEqual({
      clientIp: "203.0.113.9",
      protocol: "https",
      host: "api.example",
      remoteAddress: "127.0.0.1",
    });
  });

  it("the chain is walked right to left and stops at the first untrusted hop (a spoofed leftmost entry is ignored)", async () => {
    await start({ trustProxy: ["loopback", "10.0.0.0/8"] });
    expect((await ask(["X-Forwarded-For: 1.1.1.1, 203.0.113.9, 10.0.0.2"])).clientIp).toBe("203.0.113.9");
    // Several field lines are one list, in order.
    expect((await ask(["X-Forwarded-For: 1.1.1.1", "X-Forwarded-For: 203.0.113.9, 10.0.0.2"])).clientIp).toBe("203.0.113.9");
  });

  it("every hop trusted: the leftmost address", async () => {
    await start({ trustProxy: ["loopback", "10.0.0.0/8"] });
    expect((await ask(["X-Forwarded-For: 10.0.0.3, 10.0.0.2"])).clientIp).toBe("10.0.0.3");
  });

  it("a garbage hop stops the walk at the last good address", async () => {
    await start({ trustProxy: ["loopback", "10.0.0.0/8"] });
    expect((await ask(["X-Forwarded-For: 203.0.113.9, not-an-ip, 10.0.0.2"])).clientIp).toBe("10.0.0.2");
  });

  it("proto and host: only the rightmost value (what the trusted peer set); unknown schemes and bad hosts ignored", async () => {
    await start({ trustProxy: ["loopback"] });
    const seen = await ask(["X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https, http", "X-Forwarded-Host: evil.example, api.example"]);
    expect(seen.protocol).toBe("http");
    expect(seen.host).toBe("api.example");
    const odd = await ask(["X-Forwarded-Proto: gopher", "X-Forwarded-Host: bad host/with spaces"]);
    expect(odd.protocol).toBe("http");
    expect(odd.host).toBe("app.test:8080");
  });

  it("IPv6 entries: bare, and [addr]:port", async () => {
    await start({ trustProxy: ["loopback", "2001:db8:ffff::/48"] });
    expect((await ask(["X-Forwarded-For: 2001:db8::17"])).clientIp).toBe("2001:db8::17");
    expect((await ask(["X-Forwarded-For: [2001:db8::17]:4711, 2001:db8:ffff::1"])).clientIp).toBe("2001:db8::17");
  });
});

describe("Forwarded (RFC 7239) from a trusted peer", () => {
  it("for, proto and host of the elements trusted hops appended; Forwarded wins over X-Forwarded-*", async () => {
    await start({ trustProxy: ["loopback", "10.0.0.0/8"] });
    const seen = await ask(["X-Forwarded-For: 1.1.1.1", 'Forwarded: for=192.0.2.60;proto=https;host="api.example", for=10.0.0.2']);
    expect(seen).toEqual({ clientIp: "192.0.2.60", protocol: "https", host: "api.example", remoteAddress: "127.0.0.1" });
  });

  it("an untrusted hop's element is where the walk stops: a spoofed element before it is ignored", async () => {
    await start({ trustProxy: ["loopback"] });
    const seen = await ask(["Forwarded: for=1.2.3.4;proto=https;host=evil.example, for=198.51.100.7;proto=http"]);
    expect(seen).toEqual({ clientIp: "198.51.100.7", protocol: "http", host: "app.test:8080", remoteAddress: "127.0.0.1" });
  });

  it("quoted IPv6 nodes with ports, and ::1 as a trusted hop", async () => {
    await start({ trustProxy: ["127.0.0.1", "::1"] });
    expect((await ask(['Forwarded: for="[2001:db8:cafe::17]:4711"'])).clientIp).toBe("2001:db8:cafe::17");
    expect((await ask(['Forwarded: for="[2001:db8:cafe::17]", for="[::1]:5000"'])).clientIp).toBe("2001:db8:cafe::17");
    expect((await ask(['Forwarded: for="192.0.2.43:47011"'])).clientIp).toBe("192.0.2.43");
  });

  it("unknown and obfuscated nodes stop the walk (the client can't be known past them)", async () => {
    await start({ trustProxy: ["loopback"] });
    expect((await ask(["Forwarded: for=unknown;proto=https"])).clientIp).toBe("127.0.0.1");
    expect((await ask(["Forwarded: for=_hidden"])).clientIp).toBe("127.0.0.1");
    // The element's proto was still written by the trusted peer.
    expect((await ask(["Forwarded: for=unknown;proto=https"])).protocol).toBe("https");
  });

  it("malformed values: nothing from the broken element leftwards is believed", async () => {
    await start({ trustProxy: ["loopback", "10.0.0.0/8"] });
    // An unterminated quote on the client's line; the proxy's own line is still read.
    expect((await ask(['Forwarded: for="1.1.1.1', "Forwarded: for=198.51.100.7"])).clientIp).toBe("198.51.100.7");
    // A duplicate parameter, a missing value, a bad separator, an unbracketed IPv6.
    for (const bad of ["for=1.1.1.1;for=2.2.2.2", "for=", "for=1.1.1.1 proto=http", 'for="2001:db8::1"', "for=[2001:db8::1]"]) {
      expect((await ask([`Forwarded: ${bad}`])).clientIp, bad).toBe("127.0.0.1");
    }
    // Broken left of a trusted element: the walk stops at the break.
    expect((await ask(["Forwarded: for=;, for=10.0.0.9"])).clientIp).toBe("127.0.0.1");
    expect((await ask(["Forwarded: for=10.0.0.9, for=;"])).clientIp).toBe("127.0.0.1");
    expect((await ask(["Forwarded: for=198.51.100.9", "Forwarded: for=10.0.0.9;host=a;host=b"])).clientIp).toBe("127.0.0.1");
    expect((await ask(["Forwarded: for=198.51.100.9, , for=10.0.0.9"])).clientIp).toBe("198.51.100.9");
  });
});

describe("peers", () => {
  it("over IPv6 loopback: [::1] is trusted when listed", async () => {
    await start({ host: "::1", trustProxy: ["::1"] });
    const seen = await ask(['Forwarded: for="[2001:db8::9]"'], { host: "::1" });
    expect(seen.remoteAddress).toBe("::1");
    expect(seen.clientIp).toBe("2001:db8::9");
  });

  it("over IPv6 loopback: not trusted when only 127.0.0.1 is listed", async () => {
    await start({ host: "::1", trustProxy: ["127.0.0.1"] });
    expect((await ask(["X-Forwarded-For: 203.0.113.9"], { host: "::1" })).clientIp).toBe("::1");
  });

  it("a dual-stack listener's IPv4-mapped peer (::ffff:127.0.0.1) matches an IPv4 entry", async () => {
    await start({ host: "::", trustProxy: ["127.0.0.0/8"] });
    const seen = await ask(["X-Forwarded-For: 203.0.113.9"]);
    expect(seen.remoteAddress).toBe("::ffff:127.0.0.1");
    expect(seen.clientIp).toBe("203.0.113.9");
  });

  it("a Web Streams pair: its remoteAddress and encrypted flag give clientIp and https (and its forwarding fields count only if trusted)", async () => {
    const serveOnce = async (options: ServeOptions): Promise<string> => {
      const toServer = new TransformStream<Uint8Array, Uint8Array>();
      const fromServer = new TransformStream<Uint8Array, Uint8Array>();
      let seen = "";
      const served = accept({ readable: toServer.readable, writable: fromServer.writable, remoteAddress: "10.1.2.3", encrypted: true }, async (req, res) => {
        seen = `${req.protocol} ${req.clientIp}`;
        return res.send();
      }, options);
      const writer = toServer.writable.getWriter();
      await writer.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.1\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n"));
      await writer.close();
      expect(await new Response(fromServer.readable).text()).toMatch(/^HTTP\/1\.1 200 /);
      await served;
      return seen;
    };
    expect(await serveOnce({})).toBe("https 10.1.2.3");
    expect(await serveOnce({ trustProxy: ["10.0.0.0/8"] })).toBe("http 203.0.113.1");
  });

  it("a malformed trustProxy entry is refused before anything is served, naming it", async () => {
    for (const bad of ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::1/129", ""]) {
      await expect(serve(async (_req, res) => res.send(), { trustProxy: [bad] }), bad).rejects.toThrow(RangeError);
    }
    await expect(serve(async (_req, res) => res.send(), { trustProxy: ["banana"] })).rejects.toThrow(/"banana"/);
  });
});
