/**
 * `application/x-www-form-urlencoded` bodies and query strings as values a schema can
 * validate.
 * @module
 */

/**
 * The fields of a form or query as a plain object a schema can check: a name sent once
 * maps to its string, a name sent more than once to all its strings in order. The object
 * has no prototype, so a field named `__proto__` is only a field.
 */
export function fieldsObject(params: URLSearchParams): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of params) {
    const seen = fields[name];
    if (seen === undefined) fields[name] = value;
    else if (typeof seen === "string") fields[name] = [seen, value];
    else seen.push(value);
  }
  return fields;
}
