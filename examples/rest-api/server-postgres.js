// The REST API example backed by PostgreSQL through `pg`'s connection pool:
//   DATABASE_URL=postgres://user@127.0.0.1:5432/db node examples/rest-api/server-postgres.js
// The table is created if it doesn't exist. Same API and curl lines as server.js.
import { postgresStore } from "./postgres-store.js";
import { start } from "./start.js";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("set DATABASE_URL, e.g. postgres://user@127.0.0.1:5432/db");
  process.exit(2);
}
await start(await postgresStore(url, { max: Number(process.env.PG_POOL_MAX ?? 10) }), "REST API example (PostgreSQL store)");
