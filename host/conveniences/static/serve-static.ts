/**
 * serveStatic: a handler that serves the files under a folder.
 * @module
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { Handler } from "../../connection/index.js";
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { ResponseWritten } from "../../http/response-written.js";
import { openConfined, type Opened } from "./open-file.js";
import { hasDotSegment, requestSegments } from "./request-path.js";
import { resolveSendOptions, sendOpenFile, withSibling, type SendFileOptions } from "./send-file.js";

/** Options of {@link serveStatic}: those of {@link sendFile}, and how paths map to files. */
export interface ServeStaticOptions extends SendFileOptions {
  /** The files a directory request (`/docs/`) serves, first found wins; `false` for none. Default `["index.html"]`. */
  index?: readonly string[] | false;
  /**
   * Paths with a segment starting with `.` (`/.env`, `/.git/config`), in the URL or in the
   * real path below the root: `"ignore"` → 404 as if absent (default), `"deny"` → 403,
   * `"allow"` → served (e.g. for `/.well-known/`).
   */
  dotfiles?: "ignore" | "deny" | "allow";
  /**
   * The route parameter that holds the file's path (`"path"` for `/static/*path`). Default:
   * the last parameter the Router set (a catch-all is always last), or the whole request
   * path when the request didn't go through a route with parameters.
   */
  param?: string;
  /** A directory requested without its trailing slash gets `301 Moved Permanently` to the path with it (query kept). `false`: 404. Default true. */
  redirect?: boolean;
}

const GET_HEAD = ["GET", "HEAD"];

/**
 * A handler serving the files under `root`. GET and HEAD only (other methods → 405 with
 * `Allow: GET, HEAD`: it is a handler, not middleware that falls through — route other
 * methods elsewhere with the {@link Router}). Everything {@link sendFile} does, plus:
 *
 * - **Confinement.** A path can never reach outside `root`: `..` and `.` segments, in any
 *   encoding, encoded `/` or `\`, NUL, empty segments (`//`), and Windows drive letters are
 *   refused (404) before the file system is asked, and the file's real path (symlinks
 *   resolved) must be inside the root's real path, or it is a 404 too — the same answer as
 *   an absent file, so nothing about what lies outside leaks. Only regular files are served
 *   (no FIFOs, devices or sockets). A file the OS won't let the process read is a 403.
 * - **Directories.** `/docs` → 301 to `/docs/`; `/docs/` serves `index.html` (option
 *   `index`); a directory without one is a 404 (there are no listings).
 * - **Dotfiles** are refused with 404 unless `dotfiles` says otherwise.
 * - **With the Router**, mount it on a catch-all: `router.get("/assets/*path", serveStatic("public"))`
 *   serves `public/app.css` for `/assets/app.css`. The router's `*path` is percent-decoded;
 *   serveStatic checks the raw request path too, so a `%2F` can't make a separator the
 *   router didn't see. Standalone (`serve(serveStatic("public"))`), the whole path maps
 *   onto the root.
 *
 * `root` must be an existing directory: it is resolved (realpath) now, and a missing one throws.
 *
 * ```ts
 * const files = serveStatic("public", { maxAge: 3600, precompressed: true });
 * const app = new Router().get("/api/time", time).get("/*path", files);
 * await serve(app.route);
 * ```
 */
export function serveStatic(root: string, options: ServeStaticOptions = {}): Handler {
  const send = resolveSendOptions(options, "serveStatic");
  const index = options.index === false ? [] : [...(options.index ?? ["index.html"])];
  for (const name of index) {
    if (name === "" || name.includes("/") || name.includes("\\") || name === "." || name === "..") throw new TypeError(`serveStatic: index ${JSON.stringify(name)} must be a plain file name`);
  }
  const dotfiles = options.dotfiles ?? "ignore";
  if (!["ignore", "deny", "allow"].includes(dotfiles)) throw new TypeError(`serveStatic: dotfiles must be "ignore", "deny" or "allow", got ${JSON.stringify(dotfiles)}`);
  const redirect = options.redirect ?? true;
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch (error) {
    throw new Error(`serveStatic: the root ${JSON.stringify(root)} can't be resolved`, { cause: error });
  }
  if (!statSync(rootReal).isDirectory()) throw new Error(`serveStatic: the root ${JSON.stringify(root)} is not a directory`);

  /** A refusal for a dot segment, or undefined when dotfiles are allowed. */
  const dotRefusal = (): Glitch | undefined => (dotfiles === "allow" ? undefined : dotfiles === "deny" ? Glitch.forbidden() : Glitch.notFound());

  /** `opened`, unless its real path below the root has a dot segment that isn't allowed (then it is closed). */
  const checkReal = async (opened: Opened): Promise<Opened> => {
    if ((opened.kind !== "file" && opened.kind !== "directory") || dotfiles === "allow") return opened;
    if (!hasDotSegment(path.relative(rootReal, opened.realPath).split(path.sep))) return opened;
    if (opened.kind === "file") await opened.handle.close();
    throw dotRefusal();
  };
  const open = async (target: string): Promise<Opened> => checkReal(await openConfined(rootReal, target));

  return async (req: Request, res: ResponseWriter): Promise<ResponseWritten> => {
    if (req.method !== "GET" && req.method !== "HEAD") throw Glitch.methodNotAllowed(GET_HEAD);
    const segments = requestSegments(req, options.param);
    if (segments === undefined) throw Glitch.notFound();
    if (hasDotSegment(segments)) {
      const refusal = dotRefusal();
      if (refusal) throw refusal;
    }
    const wantsDirectory = segments[segments.length - 1] === "";
    let opened = await open(path.join(rootReal, ...segments));
    if (opened.kind === "directory") {
      if (!wantsDirectory) {
        if (!redirect) throw Glitch.notFound();
        return redirectToDirectory(req, res);
      }
      opened = await firstIndex(opened.realPath);
    } else if (opened.kind === "file" && wantsDirectory) {
      // "/style.css/": a file isn't a directory (the OS would say ENOTDIR; path.join dropped the slash).
      await opened.handle.close();
      throw Glitch.notFound();
    }
    if (opened.kind === "forbidden") throw Glitch.forbidden();
    if (opened.kind !== "file") throw Glitch.notFound();
    const file = await withSibling(req, opened, send.codings, open);
    return sendOpenFile(req, res, file, opened.realPath, send);
  };

  async function firstIndex(directory: string): Promise<Opened> {
    for (const name of index) {
      const opened = await open(path.join(directory, name));
      if (opened.kind === "file" || opened.kind === "forbidden") return opened;
    }
    return { kind: "missing" };
  }
}

/**
 * 301 to the same path with a `/` added, the query kept. The Location is the raw path the
 * client sent (still percent-encoded), which request-path's checks guarantee starts with
 * one `/` and a non-empty segment: never `//host`, which a browser would read as another site.
 */
function redirectToDirectory(req: Request, res: ResponseWriter): Promise<ResponseWritten> {
  const target = req.target;
  const q = target.indexOf("?");
  const location = `${req.path}/${q < 0 ? "" : target.slice(q)}`;
  if (!/^\/[^/\\]/.test(location)) throw Glitch.notFound();
  return res.setHeader("Location", location).setText(`moved to ${location}\n`).sendCode(301);
}
