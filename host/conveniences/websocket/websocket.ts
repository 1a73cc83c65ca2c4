/**
 * `websocket()`: a handler (or route) that answers WebSocket handshakes and hands each
 * open WebSocket — the `ws` package's, which speaks RFC 6455 — to the application.
 * @module
 */
import type { IncomingMessage } from "node:http";
import { WebSocketServer, type PerMessageDeflateOptions, type WebSocket } from "ws";
import type { Handler } from "../../connection/handler-run.js";
import { Glitch } from "../../http/glitch.js";
import { ClientClosedError } from "../../http/http-error.js";
import type { Request } from "../../http/request.js";
import type { ResponseWritten } from "../../http/response-written.js";
import { WebSocketBridge } from "./bridge.js";
import { handshakeRefusal, type OriginPolicy } from "./handshake.js";

/** Options of {@link websocket}. */
export interface WebSocketOptions {
  /** The largest message (or frame) accepted, in bytes; a larger one closes the socket with 1009. Default 1 MiB. */
  maxPayload?: number;
  /** Which pages may connect (see {@link OriginPolicy}); others get 403. Default `"same-origin"`. */
  origins?: OriginPolicy;
  /**
   * Chooses the subprotocol from those the client offered in `Sec-WebSocket-Protocol`, or
   * `false` for none. Default: the first offered (as `ws` does).
   */
  protocol?: (offered: ReadonlySet<string>, req: Request) => string | false;
  /**
   * Compression (permessage-deflate), as `ws` offers it: `true` or its options. Default
   * off: it costs memory and CPU per socket, and compressing secrets next to
   * attacker-chosen text leaks them.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Answer pings with pongs (as RFC 6455 requires). Default true. */
  autoPong?: boolean;
  /** Skip checking that text messages are valid UTF-8 (RFC 6455 §8.1 requires it). Default false. */
  skipUTF8Validation?: boolean;
}

/**
 * What runs for each WebSocket once it is open: `req` is the handshake request (its path,
 * query, headers, cookies). Attach listeners before the first `await`: messages may come
 * at once. A rejection closes the socket with 1011 and is logged.
 */
export type WebSocketHandler = (ws: WebSocket, req: Request) => void | Promise<void>;

/** The request as `ws` reads it (`method`, `url`, lower-cased `headers`): nothing more. */
interface HandshakeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The Tophat request, for the `protocol` option. */
  tophat: Request;
}

const NO_HEAD = Buffer.alloc(0);

/**
 * A handler that serves WebSockets: a handshake is answered with a 101 and `onSocket`
 * gets the open `ws` WebSocket; anything else is refused with an ordinary response — 426
 * with `Upgrade: websocket` for a plain request (a browser visiting the URL), 405, 400, or
 * 403 for an origin `options.origins` doesn't allow. When the server closes, open sockets
 * are closed with 1001 (going away); those still open at the grace deadline are destroyed.
 *
 * ```ts
 * router.get("/echo", websocket((ws) => ws.on("message", (data, binary) => ws.send(data, { binary }))));
 * ```
 */
export function websocket(onSocket: WebSocketHandler, options: WebSocketOptions = {}): Handler {
  const origins = options.origins ?? "same-origin";
  const choose = options.protocol;
  // The WebSocketServer answers no sockets itself (noServer): it checks handshakes and
  // makes WebSockets, which `ws` writes through a bridge (see bridge.ts).
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: options.maxPayload ?? 1024 * 1024,
    perMessageDeflate: options.perMessageDeflate ?? false,
    autoPong: options.autoPong ?? true,
    skipUTF8Validation: options.skipUTF8Validation ?? false,
    ...(choose ? { handleProtocols: (offered: Set<string>, incoming: IncomingMessage) => choose(offered, (incoming as unknown as HandshakeRequest).tophat) } : {}),
  });
  // A handshake ws refuses (a malformed Sec-WebSocket-Protocol or -Extensions) is answered
  // by the handler as a 400 rather than written on the bridge by ws.
  const refusals = new WeakMap<object, Error>();
  server.on("wsClientError", (error, socket) => refusals.set(socket, error));

  return async (req, res): Promise<ResponseWritten> => {
    const refusal = handshakeRefusal(req, origins);
    if (refusal) throw refusal;
    const bridge = new WebSocketBridge();
    let ws: WebSocket | undefined;
    // (ws reads only these; its types want a whole IncomingMessage.)
    const incoming: HandshakeRequest = { method: req.method, url: req.target, headers: headerRecord(req), tophat: req };
    server.handleUpgrade(incoming as unknown as IncomingMessage, bridge, NO_HEAD, (socket) => (ws = socket));
    if (ws === undefined) {
      bridge.destroy();
      throw new Glitch(400, refusals.get(bridge)?.message ?? "the WebSocket handshake was refused");
    }
    const socket: WebSocket = ws;
    let up;
    try {
      up = await res.upgrade({ headers: bridge.handshakeHeaders() });
    } catch (error) {
      socket.terminate();
      // The client left while the 101 was written: nothing failed, and the report says so.
      if (error instanceof ClientClosedError && res.written) return res.written;
      throw error;
    }
    // A protocol error (a frame over maxPayload, bad UTF-8, an unmasked frame) is the
    // client's: ws has already closed the socket with its code (1009, 1007, 1002), which
    // the close event reports. Without a listener, ws's 'error' event would crash the
    // process; the application may add its own.
    socket.on("error", () => undefined);
    const goingAway = (): void => socket.close(1001, "the server is shutting down");
    if (up.signal.aborted) goingAway();
    else {
      up.signal.addEventListener("abort", goingAway, { once: true });
      socket.once("close", () => up.signal.removeEventListener("abort", goingAway));
    }
    // The application's listeners go on before the bridge is connected: the first frames
    // may be in `head`, and ws emits them as soon as they arrive.
    let running: void | Promise<void>;
    try {
      running = onSocket(socket, req);
    } catch (error) {
      running = Promise.reject(error);
    }
    bridge.connect(up);
    try {
      await running;
    } catch (error) {
      // The application failed: the client learns it (1011) and the connection logs it.
      socket.close(1011, "internal error");
      throw error;
    }
    return up.written;
  };
}

/** The request's header fields as `ws` reads them: lower-case names, repeated ones joined. */
function headerRecord(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of req.headers.entries()) {
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}
