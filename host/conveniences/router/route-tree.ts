/**
 * The route tree: one node per path segment. Lookup walks the request's path once,
 * segment by segment, trying a static child before a parameter before a catch-all at every
 * level (and backing up when a more specific branch dead-ends), so its cost grows with the
 * path's depth, not with the number of routes. (A map of the parameterless patterns by
 * their whole path was tried as a first lookup: hashing every request's path cost the
 * other requests more than it saved the static ones, with 100 routes.)
 *
 * A lookup allocates only the parameter values and their object: it reads the segments off
 * the path string in place (no split), compares static segments there, and collects
 * parameter values in scratch arrays shared by all lookups, which is safe because a lookup
 * is synchronous and runs no code but the router's (its `Pick`).
 * @module
 */

/** What a route leads to: opaque to the tree. */
export type Target = object;

/** The routes registered at one node, by method (`*` for any method). */
export type MethodTable = Map<string, Target>;

/**
 * What a lookup takes from a table: called with the table and the method looked up, it
 * returns the route to run, or undefined to go on looking. (A module-level function, not
 * a closure over the method, so lookups allocate none.)
 */
export type Pick = (methods: MethodTable, method: string) => Target | undefined;

/** A tree a lookup may continue into at a node (a mounted sub-router's). */
export interface Mount {
  tree: RouteTree;
  /** Passed back with a match inside the mount (the sub-router). */
  owner: object;
  /** The pattern of the mount point (`/api`, `/orgs/:org`; empty at the root), prefixed to the route's in `Match.prefix`. */
  prefix: string;
}

/** A lookup's result; see {@link RouteTree.find}. */
export interface Match {
  /** The table matched. */
  methods: MethodTable;
  /** What `pick` took from it. */
  target: Target;
  /** The parameters, percent-decoded, by name (a later one of the same name wins: a mount's over its prefix's). */
  params: Record<string, string>;
  /** The router whose table matched when it is a mounted one (undefined: the tree's own). */
  owner: object | undefined;
  /** For a match inside mounts: their prefixes, outermost first, joined. */
  prefix: string | undefined;
}

/** Up to this many static children are found by comparing them in place, more through the map. */
const SCAN_LIMIT = 16;

class Node {
  readonly statics = new Map<string, Node>();
  /**
   * The same children as `statics` while there are at most SCAN_LIMIT: compared against
   * the path in place, which spares slicing the segment out and hashing it.
   */
  readonly scanKeys: string[] = [];
  readonly scanNodes: Node[] = [];
  param: { name: string; node: Node } | undefined;
  catchAll: { name: string; methods: MethodTable } | undefined;
  methods: MethodTable | undefined;
  mount: Mount | undefined;
}

/** The segments of a path or pattern: `/a/b/` → `["a", "b", ""]`, `/` → `[""]`. */
export function segmentsOf(path: string): string[] {
  return path.slice(1).split("/");
}

export class RouteTree {
  /** The root (read by lookups that continue into this tree from a mount). */
  readonly root = new Node();

  /**
   * The method table for `pattern` (made if new). Throws when the pattern is malformed or
   * clashes with another's parameter name at the same place.
   */
  tableFor(pattern: string): MethodTable {
    const { node, catchAll } = this.#walk(pattern);
    if (catchAll !== undefined) {
      const name = paramName(pattern, catchAll);
      if (node.catchAll && node.catchAll.name !== name) {
        throw new Error(`route ${pattern}: the catch-all here is already named *${node.catchAll.name}`);
      }
      node.catchAll ??= { name, methods: new Map() };
      return node.catchAll.methods;
    }
    node.methods ??= new Map();
    return node.methods;
  }

  /** Continues lookups under `prefix` into `mount` (after static, parameter and catch-all routes there). */
  mountAt(prefix: string, mount: Mount): void {
    if (prefix !== "/" && prefix.endsWith("/")) throw new Error(`mount prefix ${prefix}: leave out the trailing /`);
    const { node, catchAll } = prefix === "/" ? { node: this.root, catchAll: undefined } : this.#walk(prefix);
    if (catchAll !== undefined) throw new Error(`mount prefix ${prefix}: can't end in a catch-all`);
    if (node.mount) throw new Error(`mount prefix ${prefix}: something is already mounted there`);
    node.mount = mount;
  }

  /** The owners of every tree mounted in this one (directly). */
  mounted(): object[] {
    const owners: object[] = [];
    const visit = (node: Node): void => {
      if (node.mount) owners.push(node.mount.owner);
      for (const child of node.statics.values()) visit(child);
      if (node.param) visit(node.param.node);
    };
    visit(this.root);
    return owners;
  }

  /**
   * Walks (and builds) the nodes for the segments of `pattern`, up to a final catch-all;
   * returns the node reached and the catch-all segment, if any.
   */
  #walk(pattern: string): { node: Node; catchAll: string | undefined } {
    if (!pattern.startsWith("/")) throw new Error(`route ${JSON.stringify(pattern)}: a pattern starts with /`);
    if (/[?#]/.test(pattern)) throw new Error(`route ${pattern}: a pattern is a path, without ? or #`);
    const segments = segmentsOf(pattern);
    let node = this.root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.startsWith("*")) {
        if (i !== segments.length - 1) throw new Error(`route ${pattern}: a catch-all (*name) must be the last segment`);
        return { node, catchAll: segment };
      }
      if (segment === "" && i !== segments.length - 1) throw new Error(`route ${pattern}: empty segment (//)`);
      if (segment.startsWith(":")) {
        const name = paramName(pattern, segment);
        if (node.param && node.param.name !== name) {
          throw new Error(`route ${pattern}: the parameter here is already named :${node.param.name}`);
        }
        node.param ??= { name, node: new Node() };
        node = node.param.node;
        continue;
      }
      if (/[:*]/.test(segment)) throw new Error(`route ${pattern}: ":" and "*" may only start a segment`);
      let child = node.statics.get(segment);
      if (child === undefined) {
        node.statics.set(segment, (child = new Node()));
        node.scanKeys.push(segment);
        node.scanNodes.push(child);
      }
      node = child;
    }
    return { node, catchAll: undefined };
  }

  /**
   * The most specific route for `path` (a request's path: starts with `/`, no query) whose
   * table `pick(table, method)` takes a route from: static before parameter before catch-all before a
   * mount, at every level. `encoded`: the path has `%` escapes, all of them valid (the
   * caller checked), so each segment is decoded before it is compared or kept. The match
   * goes into `out` (the caller's, reused: a lookup allocates only the params object).
   */
  find(path: string, encoded: boolean, pick: Pick, method: string, out: Match): boolean {
    count = 0;
    foundOwner = undefined;
    foundPrefix = undefined;
    const methods = search(this.root, path, 1, encoded, pick, method);
    if (methods === undefined) return false;
    out.target = picked!;
    picked = undefined;
    const params: Record<string, string> = {};
    for (let n = 0; n < count; n++) {
      params[names[n]!] = values[n]!;
      // The scratch holds no request's strings once it is done with them.
      values[n] = "";
    }
    out.methods = methods;
    out.params = params;
    out.owner = foundOwner;
    out.prefix = foundPrefix;
    return true;
  }
}

function paramName(pattern: string, segment: string): string {
  const name = segment.slice(1);
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`route ${pattern}: parameter ${JSON.stringify(segment)} needs a name (letters, digits, _ or $)`);
  return name;
}

// The scratch of the lookup under way: the names and values of the parameters on the
// branch being tried (`count` of them), and, once a match inside mounts is found, the
// innermost mount's owner and the mounts' prefixes joined.
const names: string[] = [];
const values: string[] = [];
let count = 0;
let foundOwner: object | undefined;
let foundPrefix: string | undefined;
/** What the pick took from the table matched. */
let picked: Target | undefined;

/**
 * The walk from `node`, whose segment starts at `i` in `path` (`i > path.length`: the path
 * has no more segments). Returns the table matched; its parameters are in the scratch.
 */
function search(node: Node, path: string, i: number, encoded: boolean, pick: Pick, method: string): MethodTable | undefined {
  if (i > path.length) {
    if (node.methods !== undefined && (picked = pick(node.methods, method)) !== undefined) return node.methods;
    // The prefix itself ("/api") is the mounted router's "/".
    return node.mount === undefined ? undefined : inMount(node.mount, "/", 1, false, pick, method);
  }
  let end = path.indexOf("/", i);
  if (end === -1) end = path.length;
  // The segment as a string only when it must be one: decoded, or looked up in the map, or a value.
  let segment = encoded ? decodeSegment(path.slice(i, end)) : undefined;
  let child: Node | undefined;
  if (segment !== undefined || node.scanKeys.length > SCAN_LIMIT) {
    child = node.statics.get((segment ??= path.slice(i, end)));
  } else {
    const keys = node.scanKeys;
    const length = end - i;
    const first = path.charCodeAt(i);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      // Length and first character rule out most keys before a comparison (the empty
      // segment, a trailing `/`, has no first character: its length says it all).
      if (key.length === length && (length === 0 || (key.charCodeAt(0) === first && sameAt(path, i, key)))) {
        child = node.scanNodes[k];
        break;
      }
    }
  }
  if (child !== undefined) {
    const found = search(child, path, end + 1, encoded, pick, method);
    if (found !== undefined) return found;
  }
  if (node.param !== undefined && end > i) {
    segment ??= path.slice(i, end);
    const depth = count;
    names[depth] = node.param.name;
    values[depth] = segment;
    count = depth + 1;
    const found = search(node.param.node, path, end + 1, encoded, pick, method);
    if (found !== undefined) return found;
    count = depth;
  }
  if (node.catchAll !== undefined && (picked = pick(node.catchAll.methods, method)) !== undefined) {
    names[count] = node.catchAll.name;
    // The rest of the path, `/`s included, each segment decoded.
    values[count] = encoded ? path.slice(i).split("/").map(decodeSegment).join("/") : path.slice(i);
    count++;
    return node.catchAll.methods;
  }
  return node.mount === undefined ? undefined : inMount(node.mount, path, i, encoded, pick, method);
}

/** The walk continued into a mounted tree, its root at `i`; on a match, notes the mount. */
function inMount(mount: Mount, path: string, i: number, encoded: boolean, pick: Pick, method: string): MethodTable | undefined {
  const found = search(mount.tree.root, path, i, encoded, pick, method);
  if (found !== undefined) {
    // The innermost mount is the first to return: its owner is the one whose table matched.
    foundOwner ??= mount.owner;
    foundPrefix = mount.prefix + (foundPrefix ?? "");
  }
  return found;
}

/** Whether `path` has `key` at `i` (compared here rather than by `startsWith`, which the JIT doesn't inline). */
function sameAt(path: string, i: number, key: string): boolean {
  for (let k = 1; k < key.length; k++) if (path.charCodeAt(i + k) !== key.charCodeAt(k)) return false;
  return true;
}

function decodeSegment(segment: string): string {
  return segment.includes("%") ? decodeURIComponent(segment) : segment;
}
