import { serve } from "tophat";
import { DOWNLOAD, HELLO, JSON_DOC, scenario, port, ready, tlsFiles } from "./payload.js";

const handlers = {
  hello: (req, res) => res.setText(HELLO).send(),
  tls: (req, res) => res.setText(HELLO).send(),
  json: (req, res) => res.setJson(JSON_DOC).send(),
  download: (req, res) => res.setHeader("Content-Type", "application/octet-stream").setBody(DOWNLOAD).send(),
  // Count the body as it streams in (nothing kept), answer the count.
  upload: async (req, res) => {
    let n = 0;
    for await (const chunk of req.body) n += chunk.length;
    return res.setText(String(n)).send();
  },
};
const handler = handlers[scenario];
if (!handler) throw new Error(`no tophat handler for scenario ${scenario}`);
const server = await serve(handler, scenario === "tls" ? { port, tls: tlsFiles() } : { port });
ready(server.port);
