/**
 * The route tree: one node per path segment. Lookup walks the request's segments once,
 * trying a static child before a parameter before a catch-all at every level (and
 * backing up when a more specific branch dead-ends), so its cost grows with the path's
 * depth, not with the number of routes.
 * @module
 */

/** What a route leads to: opaque to the tree. */
export type Target = object;

/** The routes registered at one node, by method (`*` for any method). */
export type MethodTable = Map<string, Target>;

/** A tree a lookup may continue into at a node (a mounted sub-router's). */
export interface Mount {
  tree: RouteTree;
  /** Passed back with a match inside the mount (the sub-router). */
  owner: object;
  /** The pattern of the mount point (`/api`, `/orgs/:org`; empty at the root), prefixed to the route's in `Match.prefix`. */
  prefix: string;
}

export interface Match {
  methods: MethodTable;
  /** Parameter names and raw (still percent-encoded) values, in pattern order. */
  params: [string, string][];
  /** The router whose table matched: the tree's own, or a mounted one's. */
  owner: object | undefined;
  /** For a match inside mounts: their prefixes, outermost first, joined. */
  prefix: string | undefined;
}

class Node {
  readonly statics = new Map<string, Node>();
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
  readonly #root = new Node();

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
    const { node, catchAll } = prefix === "/" ? { node: this.#root, catchAll: undefined } : this.#walk(prefix);
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
    visit(this.#root);
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
    let node = this.#root;
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
      if (child === undefined) node.statics.set(segment, (child = new Node()));
      node = child;
    }
    return { node, catchAll: undefined };
  }

  /**
   * The most specific route for `segments` (decoded) whose table `accepts`: static before
   * parameter before catch-all before a mount, at every level.
   */
  find(segments: readonly string[], accepts: (methods: MethodTable) => boolean): Match | undefined {
    const params: [string, string][] = [];
    const found = search(this.#root, segments, 0, params, accepts);
    // (Built field by field: spreading `found`, whose shapes differ, costs ~20× the lookup.)
    return found === undefined ? undefined : { methods: found.methods, owner: found.owner, params: found.params ?? params, prefix: found.prefix };
  }
}

function paramName(pattern: string, segment: string): string {
  const name = segment.slice(1);
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`route ${pattern}: parameter ${JSON.stringify(segment)} needs a name (letters, digits, _ or $)`);
  return name;
}

interface Found {
  methods: MethodTable;
  owner: object | undefined;
  /** Set when the match was inside a mount: the full list (the caller's and the mount's). */
  params?: [string, string][];
  /** Set when the match was inside a mount: the mount prefixes. */
  prefix?: string;
}

function search(node: Node, segments: readonly string[], i: number, params: [string, string][], accepts: (m: MethodTable) => boolean): Found | undefined {
  if (i === segments.length) {
    if (node.methods && accepts(node.methods)) return { methods: node.methods, owner: undefined };
    // The prefix itself ("/api") is the mounted router's "/".
    return node.mount && inMount(node.mount, [""], params, accepts);
  }
  const segment = segments[i]!;
  const child = node.statics.get(segment);
  if (child) {
    const found = search(child, segments, i + 1, params, accepts);
    if (found) return found;
  }
  if (node.param && segment !== "") {
    params.push([node.param.name, segment]);
    const found = search(node.param.node, segments, i + 1, params, accepts);
    if (found) return found;
    params.pop();
  }
  if (node.catchAll && accepts(node.catchAll.methods)) {
    params.push([node.catchAll.name, segments.slice(i).join("/")]);
    return { methods: node.catchAll.methods, owner: undefined };
  }
  return node.mount && inMount(node.mount, segments.slice(i), params, accepts);
}

function inMount(mount: Mount, rest: readonly string[], params: [string, string][], accepts: (m: MethodTable) => boolean): Found | undefined {
  const inner = mount.tree.find(rest, accepts);
  return inner && { methods: inner.methods, owner: inner.owner ?? mount.owner, params: [...params, ...inner.params], prefix: mount.prefix + (inner.prefix ?? "") };
}
