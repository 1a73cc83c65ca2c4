/**
 * Opening the file a request resolved to: confined to the root (through its real path,
 * so symlinks can't lead out), regular files only, and an fd whose stat is the file's.
 * @module
 */
import { constants, type BigIntStats } from "node:fs";
import { open, realpath, type FileHandle } from "node:fs/promises";
import path from "node:path";

/** What a path turned out to be. A `file` owns its handle: whoever gets it must close it. */
export type Opened =
  | { kind: "file"; handle: FileHandle; stats: BigIntStats; realPath: string }
  | { kind: "directory"; realPath: string }
  /** Absent, outside the root, or not a regular file or directory (→ 404). */
  | { kind: "missing" }
  /** The operating system refused to open it (EACCES, EPERM → 403). */
  | { kind: "forbidden" };

const MISSING: Opened = { kind: "missing" };
const FORBIDDEN: Opened = { kind: "forbidden" };

/**
 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever (the
 * fstat below then refuses it); it changes nothing for regular files. O_NOFOLLOW (confined
 * opens only): the path was just resolved by realpath, so a symlink in its last component
 * means it was swapped in since — refuse it (ELOOP). Both are 0 where the platform lacks them.
 */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** The errors that mean "there is no such file here". */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "ENAMETOOLONG", "ELOOP", "EINVAL"]);
const DENIED = new Set(["EACCES", "EPERM"]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether `candidate` (a real path) is `root` (a real path) or below it. */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

/**
 * Opens `target` if its real path is inside `root` (itself a real path). Symlinks inside
 * the root are followed as long as where they lead is inside it too.
 */
export async function openConfined(root: string, target: string): Promise<Opened> {
  let real: string;
  try {
    real = await realpath(target);
  } catch (error) {
    return classify(error);
  }
  if (!isInside(root, real)) return MISSING;
  return openReal(real, NO_FOLLOW);
}

/** Opens `target` wherever it is (following symlinks): for paths the application chose. */
export async function openTrusted(target: string): Promise<Opened> {
  return openReal(path.resolve(target), 0);
}

async function openReal(real: string, extraFlags: number): Promise<Opened> {
  let handle: FileHandle;
  try {
    handle = await open(real, READ_FLAGS | extraFlags);
  } catch (error) {
    if (codeOf(error) === "EISDIR") return { kind: "directory", realPath: real };
    return classify(error);
  }
  let stats: BigIntStats;
  try {
    stats = await handle.stat({ bigint: true });
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (stats.isFile()) return { kind: "file", handle, stats, realPath: real };
  await handle.close();
  return stats.isDirectory() ? { kind: "directory", realPath: real } : MISSING;
}

/** An error from realpath or open as an outcome; anything unexpected is thrown (a 500). */
function classify(error: unknown): Opened {
  const code = codeOf(error);
  if (code !== undefined && ABSENT.has(code)) return MISSING;
  if (code !== undefined && DENIED.has(code)) return FORBIDDEN;
  throw error;
}
