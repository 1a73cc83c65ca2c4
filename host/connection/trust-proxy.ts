/**
 * The `trustProxy` option: which peers' forwarding fields (`Forwarded`, `X-Forwarded-*`)
 * are believed, compiled once into a `net.BlockList`.
 * @module
 */
import net from "node:net";

/**
 * The proxies whose forwarding fields are believed: addresses (`"10.0.0.7"`, `"::1"`),
 * CIDR ranges (`"10.0.0.0/8"`, `"fd00::/8"`), and the names `"loopback"`
 * (127.0.0.0/8, ::1), `"private"` (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7)
 * and `"linklocal"` (169.254.0.0/16, fe80::/10).
 */
export type TrustProxy = readonly string[];

const NAMED: Record<string, readonly string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
};

const MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The predicate for `list`: whether a peer address is a trusted proxy; undefined for an
 * empty or absent list (no proxy is). Throws a RangeError naming an entry that is neither
 * an address, a CIDR range nor a known name.
 */
export function compileTrustProxy(list: TrustProxy | undefined): ((address: string) => boolean) | undefined {
  if (list === undefined || list.length === 0) return undefined;
  if (!Array.isArray(list)) throw new RangeError(`option trustProxy must be a list of addresses, CIDR ranges or "loopback", "private", "linklocal"`);
  const blocks = new net.BlockList();
  for (const entry of list) {
    for (const item of NAMED[entry] ?? [entry]) addEntry(blocks, item, entry);
  }
  return (address) => {
    // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6 (::ffff:127.0.0.1).
    const mapped = MAPPED.exec(address);
    if (mapped) return blocks.check(mapped[1]!, "ipv4") || blocks.check(address, "ipv6");
    const family = net.isIP(address);
    return family !== 0 && blocks.check(address, family === 4 ? "ipv4" : "ipv6");
  };
}

function addEntry(blocks: net.BlockList, item: string, entry: string): void {
  const refuse = (): never => {
    throw new RangeError(`option trustProxy: ${JSON.stringify(entry)} is not an IP address, a CIDR range or one of "loopback", "private", "linklocal"`);
  };
  if (typeof item !== "string") refuse();
  const slash = item.indexOf("/");
  const address = slash === -1 ? item : item.slice(0, slash);
  const family = net.isIP(address);
  if (family === 0) refuse();
  const type = family === 4 ? "ipv4" : "ipv6";
  if (slash === -1) return blocks.addAddress(address, type);
  const bits = item.slice(slash + 1);
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) refuse();
  blocks.addSubnet(address, prefix, type);
}
