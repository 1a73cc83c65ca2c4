// The REST API's store in PostgreSQL through `pg` and its connection pool (the original
// tophat shipped this example with tokio-postgres and deadpool). Same interface as
// memory-store.js. Every query is parameterized; ids are bigint serials, sent as strings.
import pg from "pg";

const COLUMNS = "id::text AS id, owner, title, done, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"createdAt\"";

/** An id from a URL: a positive integer that fits a bigint, or undefined. */
function idOf(id) {
  return /^[1-9]\d{0,17}$/.test(id) ? id : undefined;
}

/** Connects a pool (`max` connections) to `connectionString` and makes the table if needed. */
export async function postgresStore(connectionString, { max = 10 } = {}) {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client that errors (the server restarted) must not crash the process.
  pool.on("error", (error) => console.error("postgres pool: an idle client failed", error));
  await pool.query(`CREATE TABLE IF NOT EXISTS todos (
    id bigserial PRIMARY KEY,
    owner text NOT NULL,
    title text NOT NULL,
    done boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);
  return {
    async list(owner) {
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM todos WHERE owner = $1 ORDER BY id`, [owner]);
      return rows;
    },
    async get(owner, id) {
      if (idOf(id) === undefined) return undefined;
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM todos WHERE owner = $1 AND id = $2`, [owner, id]);
      return rows[0];
    },
    async create(owner, title) {
      const { rows } = await pool.query(`INSERT INTO todos (owner, title) VALUES ($1, $2) RETURNING ${COLUMNS}`, [owner, title]);
      return rows[0];
    },
    async update(owner, id, patch) {
      if (idOf(id) === undefined) return undefined;
      const { rows } = await pool.query(
        `UPDATE todos SET title = COALESCE($3, title), done = COALESCE($4, done) WHERE owner = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [owner, id, patch.title ?? null, patch.done ?? null],
      );
      return rows[0];
    },
    async remove(owner, id) {
      if (idOf(id) === undefined) return false;
      const { rowCount } = await pool.query("DELETE FROM todos WHERE owner = $1 AND id = $2", [owner, id]);
      return rowCount === 1;
    },
    async close() {
      await pool.end();
    },
  };
}
