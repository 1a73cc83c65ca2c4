/**
 * The parameters a route pattern declares, as a type: `"/users/:id/files/*path"` →
 * `{ id: string; path: string }`.
 * @module
 */

/** One segment's parameter: `:name` or `*name`, else nothing. */
type SegmentParam<S extends string> = S extends `:${infer Name}` ? { [K in Name]: string } : S extends `*${infer Name}` ? { [K in Name]: string } : unknown;

/** Every segment's parameters, intersected. */
type Collect<P extends string> = P extends `${infer Head}/${infer Tail}` ? SegmentParam<Head> & Collect<Tail> : SegmentParam<P>;

/** Flattens an intersection into one object type, for readable hovers and errors. */
type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * The params object for a pattern: one `string` property per `:name` and `*name` segment,
 * e.g. `PathParams<"/users/:id/files/*path">` is `{ id: string; path: string }`, and a
 * pattern without parameters gives `{}`. A pattern only known as `string` gives
 * `Record<string, string>`.
 *
 * (Its definition uses internal helper types, so it is shown by name.)
 * @useDeclaredType
 */
export type PathParams<P extends string> = string extends P ? Record<string, string> : Flatten<Collect<P> & {}>;
