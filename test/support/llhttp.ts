// Node's own llhttp (the native binding node:http uses), for tests that judge bytes by a
// parser that is not ours: the binding's types, and a reader of response streams.
import { createRequire } from "node:module";

/** One native llhttp parser (callbacks go in numbered slots). */
export interface NativeParser {
  initialize(type: number, resource: object): void;
  execute(buffer: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [slot: number]: unknown;
}

/** The native parser class, with its type and callback-slot constants. */
export interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}

const require = createRequire(import.meta.url);
/** node:http's internal module: the parser class, and its list of method names. */
export const httpCommon = require("_http_common") as { HTTPParser: NativeParserClass; methods: string[] };
const HTTPParser = httpCommon.HTTPParser;

/** One response as llhttp saw it. */
export interface ParsedResponse {
  status: number;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** llhttp's keep-alive verdict for the connection after this response. */
  keepAlive: boolean;
  /** The message ended (its framing was complete), rather than being cut off. */
  complete: boolean;
}

export interface ParsedStream {
  responses: ParsedResponse[];
  /** llhttp's error code, if the bytes were not a valid sequence of responses. */
  error: string | undefined;
}

/**
 * Parses `bytes` (everything a client received until the connection ended) as responses.
 * `bodiless(headers)` says which responses carry no body whatever their framing says
 * (answers to HEAD), as a client that knows its requests would.
 */
export function parseResponseStream(bytes: Buffer, bodiless: (headers: Record<string, string>) => boolean): ParsedStream {
  const parser = new HTTPParser();
  const responses: ParsedResponse[] = [];
  let current: ParsedResponse | undefined;
  let early: string[] = [];
  parser[HTTPParser.kOnMessageBegin] = (): void => {};
  parser[HTTPParser.kOnExecute] = (): void => {};
  parser[HTTPParser.kOnHeaders] = (headers: string[]): void => {
    early = early.concat(headers);
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number, _minor: number, headers: string[] | undefined, _method: unknown, _url: unknown,
    status: number, _reason: unknown, _upgrade: boolean, keepAlive: boolean,
  ): number => {
    const flat = early.concat(headers ?? []);
    early = [];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i]!.toLowerCase();
      fields[name] = fields[name] === undefined ? flat[i + 1]! : `${fields[name]}, ${flat[i + 1]!}`;
    }
    current = { status, headers: fields, body: Buffer.alloc(0), keepAlive, complete: false };
    responses.push(current);
    // 1: this message has no body (node:http does the same for HEAD).
    return bodiless(fields) ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer): void => {
    if (current) current.body = Buffer.concat([current.body, chunk]);
  };
  parser[HTTPParser.kOnMessageComplete] = (): void => {
    if (current) current.complete = true;
  };
  parser.initialize(HTTPParser.RESPONSE, {});
  let error: string | undefined;
  try {
    const r = parser.execute(bytes);
    if (r instanceof Error) error = (r as Error & { code?: string }).code ?? r.message;
    else {
      // The end of the stream ends a close-delimited body; it is an error inside any other.
      const f = parser.finish();
      if (f instanceof Error) error = (f as Error & { code?: string }).code ?? f.message;
    }
  } finally {
    parser.close();
  }
  return { responses, error };
}
