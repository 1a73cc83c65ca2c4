// The parsers the parser benchmark compares, each behind the same shape: parse one whole
// request head from a Buffer and return what a server needs to route it (method, target,
// header names and values), so every parser does comparable work.
import { createRequire } from "node:module";
import { Core, DEFAULT_LIMITS, RequestHeadView } from "tophat/core";

const require = createRequire(import.meta.url);

/** Tophat's thin binding and its request view: method and target decoded, headers lazy. */
export function tophatLazy() {
  const core = Core.load();
  return (buf) => {
    const out = core.parseHead(buf, DEFAULT_LIMITS);
    if (out.tag !== "complete") throw new Error(`tophat: ${out.tag}`);
    const view = new RequestHeadView(buf, out.val);
    return { method: view.method, target: view.target, headers: view.headers };
  };
}

/** The same, decoding every header name and value, as llhttp's callers get them. */
export function tophatEager() {
  const core = Core.load();
  return (buf) => {
    const out = core.parseHead(buf, DEFAULT_LIMITS);
    if (out.tag !== "complete") throw new Error(`tophat: ${out.tag}`);
    const view = new RequestHeadView(buf, out.val);
    const headers = [];
    for (const [name, value] of view.headers) headers.push(name, value);
    return { method: view.method, target: view.target, headers };
  };
}

/** Node's native llhttp binding, as node:http drives it. */
export function nodeLlhttp() {
  const { HTTPParser } = require("_http_common");
  // Method numbers index the binding's own list, as node:http reads them.
  const methods = process.binding("http_parser").allMethods;
  const parser = new HTTPParser();
  let result;
  let early = [];
  let earlyUrl = "";
  parser[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url) => {
    // With more than 32 fields, llhttp hands some over early (kOnHeaders), as node:http collects them.
    result = { method: methods[method], target: url || earlyUrl, headers: early.length ? early.concat(headers ?? []) : headers };
  };
  parser[HTTPParser.kOnHeaders] = (headers, url) => {
    early = early.concat(headers);
    earlyUrl += url;
  };
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnMessageComplete] = () => {};
  return (buf) => {
    parser.initialize(HTTPParser.REQUEST, {});
    result = undefined;
    early = [];
    earlyUrl = "";
    const r = parser.execute(buf);
    if (r instanceof Error || result === undefined) throw new Error(`llhttp: ${r}`);
    return result;
  };
}

/** undici's llhttp WebAssembly build (SIMD), with header slices as undici's client takes them. */
export function undiciLlhttp() {
  const mod = new WebAssembly.Module(require("undici/lib/llhttp/llhttp_simd-wasm.js"));
  let base = 0;
  let current;
  let headers = [];
  let url = "";
  const slice = (at, len) => current.latin1Slice(at - base, at - base + len);
  const instance = new WebAssembly.Instance(mod, {
    env: {
      wasm_on_url: (p, at, len) => ((url = slice(at, len)), 0),
      wasm_on_status: () => 0,
      wasm_on_message_begin: () => 0,
      wasm_on_header_field: (p, at, len) => (headers.push(slice(at, len)), 0),
      wasm_on_header_value: (p, at, len) => (headers.push(slice(at, len)), 0),
      wasm_on_headers_complete: () => 0,
      wasm_on_body: () => 0,
      wasm_on_message_complete: () => 0,
    },
  });
  const llhttp = instance.exports;
  const ptr = llhttp.llhttp_alloc(0); // TYPE.REQUEST
  const bufPtr = llhttp.malloc(64 * 1024);
  const METHODS = ["DELETE", "GET", "HEAD", "POST", "PUT"];
  return (buf) => {
    llhttp.llhttp_reset(ptr);
    new Uint8Array(llhttp.memory.buffer, bufPtr, buf.length).set(buf);
    base = bufPtr;
    current = buf;
    headers = [];
    const ret = llhttp.llhttp_execute(ptr, bufPtr, buf.length);
    if (ret !== 0) throw new Error(`undici llhttp: error ${ret}`);
    return { method: METHODS[llhttp.llhttp_get_method(ptr)] ?? "?", target: url, headers };
  };
}
