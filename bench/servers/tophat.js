import { serve } from "tophat";
import { HELLO, JSON_DOC, scenario, port, ready } from "./payload.js";

const handler =
  scenario === "json"
    ? (req, res) => res.setJson(JSON_DOC).send()
    : (req, res) => res.setText(HELLO).send();
const server = await serve(handler, { port });
ready(server.port);
