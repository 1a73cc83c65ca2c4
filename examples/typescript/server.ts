// A typed JSON API in TypeScript: route parameters and shared state typed by the router,
// Glitch for errors, the access log, and a graceful stop.
//
//   npm run example:ts        (type-checks and compiles this file, then runs it)
//   curl -i -X PUT -d '{"text":"hi"}' http://127.0.0.1:8080/notes/1
//   curl -i http://127.0.0.1:8080/notes/1
import { Glitch, Router, accessLog, serve, type ResponseWritten } from "tophat";

interface Note {
  id: string;
  text: string;
  updatedAt: string;
}

const notes = new Map<string, Note>();

const api = new Router({ state: { notes } })
  // `req.params.id` is typed from the pattern; `req.state.notes` from the state above.
  .get("/notes/:id", async (req, res): Promise<ResponseWritten> => {
    const note = req.state.notes.get(req.params.id);
    if (note === undefined) throw Glitch.notFound(`no note ${req.params.id}`);
    return res.setJson(note).send();
  })
  .put("/notes/:id", async (req, res) => {
    const body: unknown = await req.json();
    if (typeof body !== "object" || body === null || typeof (body as { text?: unknown }).text !== "string") {
      throw Glitch.unprocessable('expected {"text": string}');
    }
    const note: Note = { id: req.params.id, text: (body as { text: string }).text, updatedAt: new Date().toISOString() };
    req.state.notes.set(note.id, note);
    return res.setStatus(200).setJson(note).send();
  })
  .get("/notes", async (req, res) => res.setJson([...req.state.notes.values()]).send());

const server = await serve(api.route, { port: Number(process.env["PORT"] ?? 8080), ...accessLog() });
console.log(`typed notes API on ${server.url}/`);

const stop = (): void => void server.close({ graceMs: 5_000 });
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
