// A throwaway PostgreSQL server for the tests that need one: Debian's postgresql binaries,
// a fresh data directory in the temp dir, loopback only, trust auth, stopped and deleted
// afterwards. When it can't be started the caller gets the reason, to skip loudly.
import { execFile } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { postgresBinDir } from "./tools.js";

const run = promisify(execFile);

export interface Postgres {
  /** A connection string for the `postgres` database as the `tophat` superuser. */
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a server, or resolves to the reason it couldn't. */
export async function startPostgres(): Promise<Postgres | { skipped: string }> {
  const bin = postgresBinDir();
  if (bin === undefined) return { skipped: "no PostgreSQL server binaries under /usr/lib/postgresql (Debian's postgresql package; bash .ci/run installs it)" };
  const dir = await mkdtemp(join(tmpdir(), "tophat-pg-"));
  // PostgreSQL refuses to run as root: as root, run it as the package's `postgres` user.
  const asRoot = process.getuid?.() === 0;
  const exec = async (file: string, args: string[]): Promise<void> => {
    if (asRoot) await run("runuser", ["-u", "postgres", "--", join(bin, file), ...args], { timeout: 60_000 });
    else await run(join(bin, file), args, { timeout: 60_000 });
  };
  const data = join(dir, "data");
  try {
    if (asRoot) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await exec("initdb", ["-D", data, "-U", "tophat", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    const port = await freePort();
    const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await exec("pg_ctl", ["-D", data, "-o", settings, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"]);
    return {
      url: `postgres://tophat@127.0.0.1:${port}/postgres`,
      stop: async () => {
        try {
          await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const e = error as { message?: string; stderr?: string };
    return { skipped: `PostgreSQL could not be started: ${(e.stderr || e.message || String(error)).trim()}` };
  }
}
