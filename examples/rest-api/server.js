// `npm start`: the REST API example with its in-memory store, on http://127.0.0.1:8080.
//   curl -i -c jar -H 'Content-Type: application/json' -d '{"name":"ada","password":"lovelace"}' http://127.0.0.1:8080/login
//   curl -i -b jar -H 'Content-Type: application/json' -d '{"title":"write docs"}' http://127.0.0.1:8080/todos
//   curl -i -b jar http://127.0.0.1:8080/todos
// Set CORS_ORIGINS (comma-separated) for a browser front end on another origin, and
// SESSION_KEY (at least 32 bytes) to keep sessions across restarts.
import { memoryStore } from "./memory-store.js";
import { start } from "./start.js";

await start(memoryStore(), "REST API example (in-memory store)");
