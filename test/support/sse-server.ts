// The event server the SSE tests share: `/count?to=N` sends the events after the client's
// Last-Event-ID up to N (one every `everyMs`), then ends the stream, so a client reconnects
// and resumes; `/page` is an HTML page that opens an EventSource on `/count`.
import { Glitch, serve, type Handler, type Server } from "../../host/index.js";

export interface EventServer {
  server: Server;
  /** The Last-Event-ID each /count request arrived with ("" for none). */
  lastIds: string[];
  close(): Promise<void>;
}

export async function startEventServer(everyMs = 20): Promise<EventServer> {
  const lastIds: string[] = [];
  const handler: Handler = async (req, res) => {
    if (req.path === "/page") {
      return res
        .setHeader("Content-Type", "text/html; charset=utf-8")
        .setText(
          `<!doctype html><title>sse</title><script>
            window.received = [];
            const source = new EventSource("/count?to=" + new URLSearchParams(location.search).get("to"));
            source.addEventListener("tick", (e) => window.received.push({ id: e.lastEventId, data: e.data }));
          </script>`,
        )
        .send();
    }
    // (Browsers also ask for /favicon.ico.)
    if (req.path !== "/count") throw Glitch.notFound();
    const to = Number(req.query.get("to") ?? "5");
    const last = req.headers.get("last-event-id") ?? "";
    lastIds.push(last);
    const events = res.sse({ retryMs: 50, heartbeatMs: 0 });
    for (let n = (Number(last) || 0) + 1; n <= to && !events.signal.aborted; n++) {
      await events.send({ event: "tick", id: String(n), data: `tick ${n}\nof ${to}` });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      // Three events per connection: then the stream ends and the client must resume.
      if (n % 3 === 0) break;
    }
    return events.close();
  };
  const server = await serve(handler, { port: 0 });
  return { server, lastIds, close: async () => void (await server.close({ graceMs: 0 })) };
}
