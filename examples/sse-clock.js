// A live clock over server-sent events: `node examples/sse-clock.js`, then open
// http://127.0.0.1:8080/ in a browser (or `curl -N http://127.0.0.1:8080/clock`).
// TICK_MS sets the interval (default 1000).
import { Glitch, serve } from "tophat";

const tickMs = Number(process.env.TICK_MS ?? 1000);

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Tophat clock</title>
<style>body { font: 3rem system-ui; display: grid; place-items: center; height: 90vh; }</style>
<p id="clock">connecting…</p>
<script>
  const clock = document.getElementById("clock");
  const source = new EventSource("/clock");
  source.addEventListener("tick", (e) => (clock.textContent = new Date(e.data).toLocaleTimeString()));
  source.onerror = () => (clock.textContent = "reconnecting…");
</script>
`;

let clients = 0;

const server = await serve(
  async (req, res) => {
    if (req.path === "/") return res.setHeader("Content-Type", "text/html; charset=utf-8").setText(PAGE).send();
    if (req.path !== "/clock") throw Glitch.notFound();
    const events = res.sse({ retryMs: 1000, heartbeatMs: 15_000 });
    clients++;
    const tick = () => events.send({ event: "tick", id: String(Date.now()), data: new Date().toISOString() });
    const timer = setInterval(() => {
      // A send fails only once the client is gone; `closed` below ends the stream then.
      tick().catch(() => clearInterval(timer));
    }, tickMs);
    await tick();
    await events.closed;
    clearInterval(timer);
    clients--;
    const written = await events.close();
    console.log(`a clock client left after ${(written.lastByteMs / 1000).toFixed(1)} s (${written.bytesWritten} bytes); ${clients} still watching`);
    return written;
  },
  { port: Number(process.env.PORT ?? 8080) },
);
console.log(`clock on ${server.url}/`);
process.once("SIGINT", () => void server.close({ graceMs: 1_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 1_000 }));
