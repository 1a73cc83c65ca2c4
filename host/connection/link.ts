/**
 * A connection's port: the one object through which its transport (bytes and close), its
 * inbound reads (the wait between requests), its request reader, and each exchange and
 * handler run reach the connection. One object whose members live on a shared prototype,
 * so a connection costs no closures or accessor pairs for them; made once per connection
 * and shared by every exchange and run. Its own file because it is a translation, not the
 * loop: most members answer from the connection's parts (its options, transport, reads
 * and writes); only what the loop alone knows goes back to it, through `LinkOwner`.
 * @module
 */
import type { Core } from "../core/index.js";
import type { HandedOver } from "../http/upgrade.js";
import type { ResponseWritten } from "../http/response-written.js";
import type { ConnectionPort, Exchange } from "./exchange.js";
import type { HandlerHost } from "./handler-run.js";
import type { Inbound, ReadWaiter } from "./inbound.js";
import { sendContinue, sendErrorResponse } from "./library-responses.js";
import type { Logger, ResolvedOptions } from "./options.js";
import type { Outbound } from "./outbound.js";
import { RequestReader, type RequestReaderHost } from "./request-reader.js";
import { reportResponse } from "./response-report.js";
import { upgradeRefusal } from "./takeover.js";
import type { Transport, TransportSink } from "./transport.js";

/** What only the connection loop knows or does: the link passes these to it (the connection, whose members for them are `@internal`). */
export interface LinkOwner {
  /** Bytes from the client. */
  received(chunk: Buffer): void;
  /** The client finished sending (EOF). */
  peerEnded(): void;
  /** The transport is gone (after an error, a reset or our own close). */
  transportClosed(error?: Error): void;
  /** Whether reads stop now: a shutdown closes this idle connection. */
  idleShutdown(): boolean;
  /** The wait between requests saw something: the loop goes on. */
  waitReady(): void;
  /** The wait between requests ran out with no request begun. */
  waitExpired(): void;
  /** Whether the connection is shutting down (gracefully). */
  readonly shuttingDown: boolean;
  /** While shutting down: when an idle connection closes. */
  readonly shutdownIdleAt: number;
  /** A read ends the connection (see `RequestReaderHost.endedBy`). */
  endedBy(by: "server" | "timeout"): void;
  /** The current handler made progress (a body read, a write): its deadline starts again. */
  progress(): void;
  /** The client is gone, or ended its side before its request was complete. */
  readonly left: boolean;
  /** Writes `head` (a framed 101) and hands the stream over: the loop ends with `ex`. */
  takeOver(ex: Exchange, head: Uint8Array): Promise<HandedOver>;
}

/** The port of one connection (see the module comment). */
export class Link implements ConnectionPort, HandlerHost, TransportSink, ReadWaiter, RequestReaderHost {
  readonly #owner: LinkOwner;
  readonly #transport: Transport;
  readonly #options: ResolvedOptions;
  readonly #in: Inbound;
  readonly #out: Outbound;
  /** The connection's core (it is stateless between calls: shared by connections). */
  readonly core: Core;
  /** The connection's reading, made here because it reads through this link (the connection takes it from here). */
  readonly reader: RequestReader;

  constructor(owner: LinkOwner, transport: Transport, options: ResolvedOptions, core: Core, inbound: Inbound, outbound: Outbound) {
    this.#owner = owner;
    this.#transport = transport;
    this.#options = options;
    this.core = core;
    this.#in = inbound;
    this.#out = outbound;
    this.reader = new RequestReader(this, inbound, outbound, core, options);
  }

  // TransportSink: what the transport reads.
  data(chunk: Buffer): void {
    this.#owner.received(chunk);
  }
  end(): void {
    this.#owner.peerEnded();
  }
  close(error?: Error): void {
    this.#owner.transportClosed(error);
  }

  // Reader and ReadWaiter: reads from the inbound; the wait between requests.
  stopReading(): boolean {
    return this.#owner.idleShutdown();
  }
  beforeWait(): void {
    this.#out.uncork();
  }
  ready(): void {
    this.#owner.waitReady();
  }
  expired(): void {
    this.#owner.waitExpired();
  }

  // RequestReaderHost (and `shuttingDown`, which ConnectionPort has too)
  get shutdownIdleAt(): number {
    return this.#owner.shutdownIdleAt;
  }
  endedBy(by: "server" | "timeout"): void {
    this.#owner.endedBy(by);
  }
  progress(): void {
    this.#owner.progress();
  }

  // HandlerHost
  get logger(): Logger {
    return this.#options.logger;
  }
  get handlerTimeoutMs(): number {
    return this.#options.handlerTimeoutMs;
  }
  get left(): boolean {
    return this.#owner.left;
  }
  get waitingOnClient(): boolean {
    return this.#in.waiting || this.#out.waiting;
  }
  sendError(error: unknown, ex: Exchange): Promise<void> {
    return sendErrorResponse(this, this.#options, error, ex);
  }
  reset(): void {
    this.#transport.reset();
  }

  // ConnectionPort (and `gone`, which HandlerHost has too)
  get shuttingDown(): boolean {
    return this.#owner.shuttingDown;
  }
  get buffered(): boolean {
    return this.reader.moreRead();
  }
  get maxDrainBytes(): number {
    return this.#options.maxDrainBytes;
  }
  get maxBodyBytes(): number {
    return this.#options.maxBodyBytes;
  }
  get remoteAddress(): string | undefined {
    return this.#transport.remoteAddress;
  }
  get encrypted(): boolean {
    return this.#transport.encrypted;
  }
  get seesWriteProgress(): boolean {
    return this.#transport.unsentBytes !== undefined;
  }
  get trustProxy(): ((address: string) => boolean) | undefined {
    return this.#options.trustProxy;
  }
  get gone(): boolean {
    return this.#in.gone;
  }
  get finished(): boolean {
    return this.#in.gone || this.#in.eof;
  }
  takeBuffered(): Buffer {
    return this.reader.takeHeld();
  }
  putBack(rest: Buffer): void {
    this.reader.putBack(rest);
  }
  nextBodyChunk(ex: Exchange): Promise<Buffer | null> {
    return this.reader.nextBodyChunk(ex);
  }
  sendContinue(ex: Exchange): void {
    sendContinue(ex, this.#out);
  }
  write(ex: Exchange, chunks: readonly Uint8Array[], last: boolean): Promise<void> {
    this.#owner.progress();
    return this.#out.write(ex, chunks, last);
  }
  writeLast(ex: Exchange, chunks: readonly Uint8Array[], done: (error: Error | undefined) => void): void {
    this.#owner.progress();
    this.#out.writeLast(ex, chunks, done);
  }
  upgradable(ex: Exchange): { offered: string; tunnel: boolean } | { refused: Error } {
    return upgradeRefusal(ex, this.#owner.shuttingDown, this.#in.gone);
  }
  takeOver(ex: Exchange, head: Uint8Array): Promise<HandedOver> {
    return this.#owner.takeOver(ex, head);
  }
  responded(ex: Exchange, written: ResponseWritten): void {
    reportResponse(this.#options, ex.req, written);
  }
}
