/**
 * `runCluster()`: one server per core with node:cluster. The primary process forks the
 * workers (the same script), restarts one that crashes, replaces them all one at a time on
 * SIGHUP or `restart()` (a new worker listens before an old one stops, and the old one
 * closes gracefully, so no request is dropped), and stops them all gracefully on SIGTERM
 * or SIGINT. Each worker runs `start()` — typically `serve(app, { port })`: the workers
 * share the listening socket through the primary.
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Logger } from "../connection/options.js";
import type { Server } from "./serve.js";

/** Where the primary reports on its workers: a {@link Logger}, with `info` for routine events. */
export interface ClusterLogger extends Logger {
  /** Routine events (a rolling restart done). Optional: without it they aren't reported. */
  info?(message: string): void;
}

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  /** Starts this worker's server (runs in each worker process). */
  start: () => Promise<Server>;
  /** How many worker processes. Default: one per core (`os.availableParallelism()`). */
  workers?: number;
  /** How long a stopping worker's `server.close()` lets in-flight requests finish. Default 10 s. */
  graceMs?: number;
  /** Whether the primary handles SIGHUP (rolling restart) and SIGTERM/SIGINT (graceful stop). Default true. */
  signals?: boolean;
  /** Where the primary reports worker crashes and restarts. Default: console. */
  logger?: ClusterLogger;
}

/** What {@link runCluster} gives the primary process. */
export interface ClusterPrimary {
  /** This is the primary: it serves nothing itself. */
  readonly role: "primary";
  /** The address the workers listen on (from the first one to listen). */
  readonly url: string;
  /** The port the workers listen on. */
  readonly port: number;
  /** The process ids of the current workers. */
  pids(): number[];
  /**
   * Replaces every worker, one at a time: a new worker is forked and listening before an
   * old one is told to close. Resolves when all were replaced. A second call while one
   * runs returns the same promise.
   */
  restart(): Promise<void>;
  /** Stops every worker gracefully (no more restarts); resolves once they all exited. */
  close(): Promise<void>;
}

/** What {@link runCluster} gives a worker process. */
export interface ClusterWorker {
  /** This is a worker. */
  readonly role: "worker";
  /** The server this worker's `start()` made. */
  readonly server: Server;
}

/** The primary's message asking a worker to close gracefully and exit. */
const STOP = "tophat:stop";
/** A worker that crashes sooner than this after starting is restarted with a growing delay. */
const STABLE_MS = 5_000;
const MAX_BACKOFF_MS = 10_000;

/**
 * Runs `start()` in `workers` processes under node:cluster. Call it at the top of your
 * entry script: in the primary it forks the workers and resolves once they all listen; in
 * a worker it runs `start()` and resolves with its server.
 *
 * ```ts
 * const node = await runCluster({ start: () => serve(app, { port: 8080, host: "0.0.0.0" }) });
 * if (node.role === "primary") console.log(`${node.pids().length} workers on ${node.url}`);
 * ```
 */
export async function runCluster(options: ClusterOptions): Promise<ClusterPrimary | ClusterWorker> {
  const graceMs = options.graceMs ?? 10_000;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`runCluster: graceMs must be ≥ 0, got ${graceMs}`);
  if (cluster.isWorker) return runWorker(options, graceMs);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`runCluster: workers must be a positive integer, got ${workers}`);
  return new Primary(workers, graceMs, options.logger ?? console).start(options.signals ?? true);
}

async function runWorker(options: ClusterOptions, graceMs: number): Promise<ClusterWorker> {
  const server = await options.start();
  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    stopping ??= server.close({ graceMs }).then(() => process.exit(0));
  };
  process.on("message", (message: unknown) => {
    if (message === STOP) stop();
  });
  // A terminal's Ctrl-C signals the whole process group: the primary orchestrates the
  // stop, so a worker doesn't die under its in-flight requests. SIGTERM sent to a worker
  // alone (by a supervisor) closes it gracefully.
  process.on("SIGINT", () => {});
  process.on("SIGHUP", () => {});
  process.on("SIGTERM", stop);
  return { role: "worker", server };
}

class Primary implements ClusterPrimary {
  readonly role = "primary";
  url = "";
  port = 0;
  readonly #size: number;
  readonly #graceMs: number;
  readonly #log: ClusterLogger;
  /** The workers serving now (not those being retired). */
  readonly #current = new Set<Worker>();
  /** Workers told to stop: their exit is expected. */
  readonly #retiring = new Set<Worker>();
  #closing: Promise<void> | undefined;
  #restarting: Promise<void> | undefined;
  #crashes = 0;

  constructor(size: number, graceMs: number, log: ClusterLogger) {
    this.#size = size;
    this.#graceMs = graceMs;
    this.#log = log;
  }

  async start(signals: boolean): Promise<this> {
    if (signals) {
      process.on("SIGHUP", () => {
        void this.restart().catch((error: unknown) => this.#log.error("tophat: the rolling restart failed", error));
      });
      const stop = (): void => void this.close();
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    }
    await Promise.all(Array.from({ length: this.#size }, () => this.#fork()));
    return this;
  }

  pids(): number[] {
    return [...this.#current].map((w) => w.process.pid).filter((pid): pid is number => pid !== undefined);
  }

  restart(): Promise<void> {
    if (this.#closing) return Promise.reject(new Error("runCluster: the cluster is closing"));
    return (this.#restarting ??= (async () => {
      try {
        for (const old of [...this.#current]) {
          await this.#fork();
          await this.#retire(old);
        }
        this.#log.info?.(`tophat: rolling restart done (${this.pids().length} workers)`);
      } finally {
        this.#restarting = undefined;
      }
    })());
  }

  close(): Promise<void> {
    return (this.#closing ??= Promise.all([...this.#current].map((w) => this.#retire(w))).then(() => undefined));
  }

  /** Forks a worker; resolves once it listens (rejects if it exits first). */
  #fork(): Promise<Worker> {
    const worker = cluster.fork();
    const startedAt = performance.now();
    this.#current.add(worker);
    worker.on("exit", (code, signal) => this.#onExit(worker, code, signal, startedAt));
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`runCluster: a worker exited (code ${code}) before it listened`));
      worker.once("exit", onExit);
      worker.once("listening", (address) => {
        worker.off("exit", onExit);
        if (this.port === 0) {
          this.port = address.port;
          const host = address.address === null || address.address === undefined || address.address === "" ? "127.0.0.1" : String(address.address);
          this.url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
        }
        resolve(worker);
      });
    });
  }

  /** Asks a worker to close gracefully; kills it if it hasn't exited well after its grace. */
  #retire(worker: Worker): Promise<void> {
    this.#current.delete(worker);
    this.#retiring.add(worker);
    if (worker.isDead()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const kill = setTimeout(() => worker.process.kill("SIGKILL"), this.#graceMs + 5_000);
      worker.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      worker.send(STOP);
    });
  }

  #onExit(worker: Worker, code: number | null, signal: string | null, startedAt: number): void {
    this.#current.delete(worker);
    if (this.#retiring.delete(worker) || this.#closing) return;
    // A crash: replace the worker, with a growing delay while it keeps crashing at start.
    this.#crashes = performance.now() - startedAt < STABLE_MS ? this.#crashes + 1 : 0;
    const delay = this.#crashes === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.#crashes - 1));
    this.#log.error(`tophat: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another${delay ? ` in ${delay} ms` : ""}`);
    setTimeout(() => {
      if (this.#closing) return;
      this.#fork().catch((error: unknown) => this.#log.error("tophat: a replacement worker failed to start", error));
    }, delay).unref();
  }
}
