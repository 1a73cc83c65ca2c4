/**
 * Validation of request data by any Standard Schema validator (zod, valibot, arktype, …):
 * the typed value, or a 422 whose problem+json lists each failing field (RFC 9457).
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { Glitch } from "../glitch.js";

/** One failing field of a 422: where (a JSON pointer into the validated value) and why. */
export interface ValidationIssue {
  /** An RFC 6901 JSON pointer to the failing value: `""` for the whole value, `/items/0/name` inside it. */
  readonly pointer: string;
  /** The validator's message. */
  readonly detail: string;
}

/** Most issues listed in a 422 (a huge invalid array would otherwise make a huge answer). */
const MAX_ISSUES = 100;
/** Most issues spelled out in the message (the text/plain body). */
const MESSAGE_ISSUES = 5;

/**
 * `value` checked by `schema`: its output (the schema's transforms applied), or a Glitch
 * 422 naming `what` was invalid, with an `errors` extension member of
 * {@link ValidationIssue}s. Validators that answer with a promise are awaited. A validator
 * that throws is a server failure: its error goes on (a 500), it says nothing about the input.
 */
export async function validate<Schema extends StandardSchemaV1>(schema: Schema, value: unknown, what: string): Promise<StandardSchemaV1.InferOutput<Schema>> {
  const standard = (schema as Partial<StandardSchemaV1> | null | undefined)?.["~standard"];
  if (standard === undefined || standard.version !== 1 || typeof standard.validate !== "function") {
    throw new TypeError("the schema is not a Standard Schema (v1): pass a zod (≥ 3.24), valibot (≥ 1), arktype or other validator implementing ~standard");
  }
  const result = await standard.validate(value);
  if (result.issues === undefined) return result.value as StandardSchemaV1.InferOutput<Schema>;
  const errors = result.issues.slice(0, MAX_ISSUES).map((issue): ValidationIssue => ({ pointer: pointer(issue.path), detail: issue.message }));
  throw Glitch.unprocessable(message(what, errors, result.issues.length), { extensions: { errors } });
}

function message(what: string, errors: readonly ValidationIssue[], total: number): string {
  const listed = errors.slice(0, MESSAGE_ISSUES).map((e) => `${e.pointer === "" ? "(the whole value)" : e.pointer}: ${e.detail}`);
  const more = total > listed.length ? `; and ${total - listed.length} more` : "";
  return `${what} is invalid: ${listed.join("; ")}${more}`;
}

/** An issue's path as an RFC 6901 JSON pointer (`~` → `~0`, `/` → `~1`). */
export function pointer(path: StandardSchemaV1.Issue["path"]): string {
  if (path === undefined) return "";
  let out = "";
  for (const segment of path) {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    const text = typeof key === "symbol" ? (key.description ?? "") : String(key);
    out += `/${text.replaceAll("~", "~0").replaceAll("/", "~1")}`;
  }
  return out;
}
