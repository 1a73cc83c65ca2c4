// Runs an example as its README says (`node examples/<file>`) on a free port, and collects
// what it prints, so a test can talk to it like a user would.
import { spawn, type ChildProcess } from "node:child_process";

export interface RunningExample {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  base: string;
  port: number;
  /** Every line it printed to stdout so far. */
  readonly lines: string[];
  /** The process id (to send it signals). */
  pid: number;
  /** Resolves with the exit code once the process exited. */
  exited: Promise<number | null>;
  /** Resolves with the first printed line that matches (waits for it). */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `node <file>` with PORT=0 and resolves once it printed its http://127.0.0.1:<port>/ URL. */
export async function startExample(file: string, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<RunningExample> {
  const child: ChildProcess = spawn(process.execPath, [file], { env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  const waiters = new Set<() => void>();
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const line = (pattern: RegExp, ms = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find((l) => pattern.test(l));
        if (found === undefined) return;
        done();
        resolve(found);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${file} printed no line matching ${pattern} in ${ms} ms; it printed:\n${lines.join("\n")}\nstderr:\n${stderr}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then((code) => {
        if (!waiters.has(check)) return;
        done();
        reject(new Error(`${file} exited with ${code} before printing ${pattern}; stderr:\n${stderr}`));
      });
      check();
    });

  const urlLine = await line(/http:\/\/127\.0\.0\.1:\d+\//, timeoutMs);
  const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\//.exec(urlLine)![1]);
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    exited,
    lines,
    line,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 7_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
