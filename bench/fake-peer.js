// The in-process benches' client (bench/in-process.js, bench/ab-in-process.js): a socket
// whose peer is this process, no system calls behind it. It feeds a server batches of
// pipelined GETs and counts the response bytes that come back; the next batch goes in
// when the last one is answered.
import { Duplex } from "node:stream";

/** The request every batch repeats. */
export const REQUEST = "GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: in-process\r\nAccept: */*\r\n\r\n";

/** A socket whose peer is this process: pushes request batches, counts response bytes. */
export class FakeSocket extends Duplex {
  remoteAddress = "127.0.0.1";
  received = 0;
  onBytes = () => {};
  constructor() {
    super({ allowHalfOpen: true });
  }
  _read() {}
  /** When set, every chunk written is kept here. */
  kept = undefined;
  _write(chunk, _encoding, callback) {
    this.kept?.push(chunk);
    this.received += chunk.length;
    this.onBytes();
    callback();
  }
  _writev(chunks, callback) {
    for (const { chunk } of chunks) {
      this.kept?.push(chunk);
      this.received += chunk.length;
    }
    this.onBytes();
    callback();
  }
  setNoDelay() {}
  setKeepAlive() {}
  setTimeout() {}
}

/**
 * Runs `requests` requests, `batch` per write, through a fresh socket handed to `connect`
 * (each response `responseBytes` long); resolves with the wall time (ms) and this
 * process's CPU time (µs) they took.
 */
export function drive(connect, { requests, batch, responseBytes }) {
  const batchBytes = Buffer.from(REQUEST.repeat(batch));
  return new Promise((resolve) => {
    const socket = new FakeSocket();
    let sent = 0;
    const start = performance.now();
    const cpu = process.cpuUsage();
    const pushBatch = () => {
      sent += batch;
      socket.push(batchBytes);
    };
    socket.onBytes = () => {
      if (socket.received < sent * responseBytes) return;
      if (sent >= requests) {
        const used = process.cpuUsage(cpu);
        resolve({ ms: performance.now() - start, cpuUs: used.user + used.system });
        socket.push(null);
        socket.destroy();
        return;
      }
      // Bytes from a real peer arrive on a later turn of the event loop, never inside the
      // server's own write call.
      setImmediate(pushBatch);
    };
    connect(socket);
    pushBatch();
  });
}

/** The size of one response (the Date field has a fixed length, so every response has it). */
export function responseSize(connect) {
  return new Promise((resolve, reject) => {
    const socket = new FakeSocket();
    socket.kept = [];
    socket.onBytes = () => {
      const all = Buffer.concat(socket.kept).toString("latin1");
      const end = all.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(all);
      if (end === -1 || length === null || all.length < end + 4 + Number(length[1])) return;
      resolve(end + 4 + Number(length[1]));
    };
    setTimeout(() => reject(new Error("no response in 5 s")), 5_000).unref();
    connect(socket);
    socket.push(Buffer.from(REQUEST));
  });
}
