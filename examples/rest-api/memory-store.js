// The REST API's embedded default store: todos in a Map, per owner. Same interface as
// postgres-store.js; every method is async so the app can't tell them apart.

/** @typedef {{ id: string, owner: string, title: string, done: boolean, createdAt: string }} Todo */

export function memoryStore() {
  /** @type {Map<string, Todo>} */
  const todos = new Map();
  let nextId = 1;
  return {
    async list(owner) {
      return [...todos.values()].filter((t) => t.owner === owner);
    },
    async get(owner, id) {
      const todo = todos.get(id);
      return todo?.owner === owner ? todo : undefined;
    },
    async create(owner, title) {
      const todo = { id: String(nextId++), owner, title, done: false, createdAt: new Date().toISOString() };
      todos.set(todo.id, todo);
      return todo;
    },
    async update(owner, id, patch) {
      const todo = await this.get(owner, id);
      if (todo === undefined) return undefined;
      const updated = { ...todo, ...patch };
      todos.set(id, updated);
      return updated;
    },
    async remove(owner, id) {
      const todo = await this.get(owner, id);
      return todo !== undefined && todos.delete(id);
    },
    async close() {},
  };
}
