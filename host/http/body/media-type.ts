/**
 * The media type of a request body, as its Content-Type says: the check that a body parser
 * gets what it parses (RFC 9110 §15.5.16: 415 otherwise).
 * @module
 */
import { MIMEType } from "node:util";
import type { Headers } from "../headers.js";
import { Glitch } from "../glitch.js";

/**
 * The request's Content-Type parsed (WHATWG MIME type rules, through node:util's
 * MIMEType), after checking that its essence is `expected`. No Content-Type, an
 * unparseable one, or another type → Glitch 415 naming the type expected.
 */
export function requireMediaType(headers: Headers, expected: string): MIMEType {
  const value = headers.get("content-type");
  if (value === undefined) throw unsupported(expected, "the request has no Content-Type");
  let type: MIMEType;
  try {
    type = new MIMEType(value);
  } catch (error) {
    throw unsupported(expected, "its Content-Type can't be parsed", error);
  }
  if (type.essence !== expected) throw unsupported(expected, `it is ${type.essence}`);
  return type;
}

function unsupported(expected: string, why: string, cause?: unknown): Glitch {
  // RFC 9110 §15.5.16: the response should say what is accepted; Accept-Post/Accept-Patch
  // (RFC 5789 §3.1) are per method, so the message says it for every method.
  return Glitch.unsupportedMediaType(`the request body must be ${expected}: ${why}`, { cause, extensions: { expected } });
}
