/**
 * Who the client is behind trusted proxies: `Forwarded` (RFC 7239) and the de-facto
 * `X-Forwarded-For`/`-Proto`/`-Host`, believed only as far as a chain of trusted hops
 * vouches for them.
 * @module
 */
import net from "node:net";
import type { Headers } from "./headers.js";

/** The origin of a request as the server should see it. */
export interface RequestOrigin {
  /** The client's IP address. */
  clientIp: string | undefined;
  /** The scheme the client used. */
  protocol: "http" | "https";
  /** The host the client asked for (as sent: it may carry a port). */
  host: string | undefined;
}

/** What resolving an origin needs from the request and its connection. */
export interface OriginInput {
  /** The transport's peer address. */
  peer: string | undefined;
  /** Whether the transport is TLS. */
  encrypted: boolean;
  /** The target's authority, or else the Host field. */
  host: string | undefined;
  headers: Headers;
  /** Whether an address is a proxy whose forwarding fields are believed; undefined: none is. */
  trusted: ((address: string) => boolean) | undefined;
}

/** One `Forwarded` element's parameters (names lower-cased, values unquoted). */
type Element = Map<string, string>;

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d{1,5})?$/;

/**
 * The request's origin. Without a trusted peer it is the transport's: the peer address,
 * `https` over TLS, the Host. With one, the forwarding fields are walked from the right
 * (the hop nearest the server) to the left, each element believed because the hop that
 * appended it is trusted, stopping at the first hop that isn't (or that can't be parsed,
 * or names no address). `Forwarded` wins over the `X-Forwarded-*` fields when both are present.
 */
export function resolveOrigin(input: OriginInput): RequestOrigin {
  const origin: RequestOrigin = { clientIp: input.peer, protocol: input.encrypted ? "https" : "http", host: input.host };
  const trusted = input.trusted;
  if (trusted === undefined || input.peer === undefined || !trusted(input.peer)) return origin;
  const forwarded = input.headers.getAll("forwarded");
  if (forwarded.length > 0) {
    const elements = forwarded.flatMap(parseForwarded);
    for (let i = elements.length - 1; i >= 0; i--) {
      const element = elements[i];
      if (element === null || element === undefined) break;
      // Written by a trusted hop: its proto and host are what that hop received.
      const proto = element.get("proto")?.toLowerCase();
      if (proto === "http" || proto === "https") origin.protocol = proto;
      const host = element.get("host");
      if (host !== undefined && HOST.test(host)) origin.host = host;
      const address = nodeAddress(element.get("for"));
      // "unknown", an obfuscated name or garbage: the client can't be known past this hop.
      if (address === undefined) break;
      origin.clientIp = address;
      if (!trusted(address)) break;
    }
    return origin;
  }
  const hops = input.headers
    .getAll("x-forwarded-for")
    .flatMap((line) => line.split(","))
    .map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = net.isIP(hops[i]!) ? hops[i] : nodeAddress(hops[i]);
    if (address === undefined) break;
    origin.clientIp = address;
    if (!trusted(address)) break;
  }
  // Proto and host: the rightmost value only, the one the trusted peer set or passed on
  // (values to its left may have come from the client, and lists of them don't say which
  // hop wrote what). Forwarded keeps each hop's values together, for longer chains.
  const proto = lastValue(input.headers, "x-forwarded-proto")?.toLowerCase();
  if (proto === "http" || proto === "https") origin.protocol = proto;
  const host = lastValue(input.headers, "x-forwarded-host");
  if (host !== undefined && HOST.test(host)) origin.host = host;
  return origin;
}

function lastValue(headers: Headers, name: string): string | undefined {
  const lines = headers.getAll(name);
  if (lines.length === 0) return undefined;
  return lines[lines.length - 1]!.split(",").pop()!.trim();
}

/**
 * The address in a `Forwarded` node (`192.0.2.60`, `"[2001:db8::1]:4711"`,
 * `192.0.2.60:80`); undefined for `unknown`, an obfuscated name (`_hidden`) or anything else.
 */
export function nodeAddress(node: string | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (node.startsWith("[")) {
    const end = node.indexOf("]");
    if (end === -1) return undefined;
    const address = node.slice(1, end);
    const rest = node.slice(end + 1);
    return net.isIPv6(address) && (rest === "" || /^:(?:\d{1,5}|_[A-Za-z0-9._-]+)$/.test(rest)) ? address : undefined;
  }
  const colon = node.indexOf(":");
  const address = colon === -1 ? node : node.slice(0, colon);
  if (colon !== -1 && !/^(?:\d{1,5}|_[A-Za-z0-9._-]+)$/.test(node.slice(colon + 1))) return undefined;
  return net.isIPv4(address) ? address : undefined;
}

/**
 * The elements of one `Forwarded` field line, in order. A malformed element is `null`,
 * and nothing after it on that line is read: where it ends can't be known.
 */
export function parseForwarded(line: string): (Element | null)[] {
  const elements: (Element | null)[] = [];
  let element: Element = new Map();
  let i = 0;
  const n = line.length;
  const skipSpace = (): void => {
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
  };
  const fail = (): (Element | null)[] => {
    elements.push(null);
    return elements;
  };
  for (;;) {
    skipSpace();
    if (i === n || line[i] === ",") {
      // (Empty list elements are allowed and ignored.)
      if (element.size > 0) elements.push(element);
      if (i === n) return elements;
      element = new Map();
      i++;
      continue;
    }
    if (line[i] === ";") {
      i++;
      continue;
    }
    const nameStart = i;
    while (i < n && TOKEN.test(line[i]!)) i++;
    if (i === nameStart || line[i] !== "=") return fail();
    const name = line.slice(nameStart, i).toLowerCase();
    i++;
    let value = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i === n) return fail(); // an unterminated quoted-string
        const c = line[i++]!;
        if (c === '"') break;
        if (c === "\\") {
          if (i === n) return fail();
          value += line[i++];
        } else value += c;
      }
    } else {
      const valueStart = i;
      while (i < n && TOKEN.test(line[i]!)) i++;
      if (i === valueStart) return fail();
      value = line.slice(valueStart, i);
    }
    // RFC 7239 §4: a parameter occurs at most once per element.
    if (element.has(name)) return fail();
    element.set(name, value);
    skipSpace();
    if (i < n && line[i] !== ";" && line[i] !== ",") return fail();
  }
}
