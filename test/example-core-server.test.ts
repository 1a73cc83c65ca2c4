// examples/core/server.js: a host loop over the protocol core alone (the one docs/core.md
// quotes), started as a user would and served to curl and raw sockets.
import { afterAll, beforeAll } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";
import { hostScenarios } from "./support/host-scenarios.js";

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/core/server.js");
});
afterAll(() => app.stop());

hostScenarios("examples/core/server.js", () => app.base);
