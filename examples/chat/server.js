// A chat over WebSocket: `node examples/chat/server.js`, then open http://127.0.0.1:8080/
// in two browser tabs. Every message a page sends goes to every page connected, with
// the name its author chose. Stop it with Ctrl-C: open pages are told the server is going
// away (close code 1001).
import { readFile } from "node:fs/promises";
import { Router, serve, websocket } from "tophat";

const page = await readFile(new URL("./index.html", import.meta.url), "utf8");

/** The open sockets, to broadcast to. */
const room = new Set();

function broadcast(message) {
  const text = JSON.stringify(message);
  for (const ws of room) ws.send(text);
}

const router = new Router()
  .get("/", async (_req, res) => res.setHeader("Content-Type", "text/html; charset=utf-8").setText(page).send())
  .get(
    "/chat",
    // Pages from this server only (the default origin policy); 16 KiB per message at most.
    websocket(
      (ws, req) => {
        const name = (req.query.get("name") ?? "").trim().slice(0, 32) || "anonymous";
        room.add(ws);
        broadcast({ kind: "joined", name, present: room.size });
        ws.on("message", (data, binary) => {
          if (binary) return ws.close(1003, "text messages only");
          const text = data.toString().trim().slice(0, 2000);
          if (text) broadcast({ kind: "said", name, text });
        });
        ws.on("close", () => {
          room.delete(ws);
          broadcast({ kind: "left", name, present: room.size });
        });
      },
      { maxPayload: 16 * 1024 },
    ),
  );

const server = await serve(router.route, { port: Number(process.env.PORT ?? 8080) });
console.log(`chat on ${server.url}/`);

const stop = async () => {
  const closed = await server.close({ graceMs: 2_000 });
  console.log(`closed: ${closed.upgraded} chat sockets told to go away, ${closed.destroyed} cut off`);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
