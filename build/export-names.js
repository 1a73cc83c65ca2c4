// An asc transform that gives exported functions the canonical-ABI names a component
// needs ("tophat:http/parser@0.2.0#parse-head", "cabi_post_…", "cabi_realloc"), which
// AssemblyScript identifiers can't spell. Mark a function in the guest with
// `@exportAs("name")`; asc itself ignores decorators it doesn't know.
import { Transform } from "assemblyscript/transform";

export default class ExportNames extends Transform {
  /** AssemblyScript export name → component core export name. */
  renames = new Map();

  afterParse(parser) {
    for (const source of parser.sources) {
      if (source.isLibrary) continue;
      for (const statement of source.statements) {
        for (const decorator of statement.decorators ?? []) {
          if (decorator.name?.text !== "exportAs") continue;
          const arg = decorator.args?.[0];
          if (!arg || typeof arg.value !== "string") {
            throw new Error(`@exportAs on ${statement.name.text} needs one string argument`);
          }
          this.renames.set(statement.name.text, arg.value);
        }
      }
    }
  }

  afterCompile(module) {
    const binaryen = this.binaryen;
    for (const [from, to] of this.renames) {
      const ref = module.getExport(from);
      if (!ref) throw new Error(`@exportAs("${to}"): ${from} is not exported from the entry file`);
      const { value } = binaryen.getExportInfo(ref);
      module.removeExport(from);
      module.addFunctionExport(value, to);
    }
  }
}
