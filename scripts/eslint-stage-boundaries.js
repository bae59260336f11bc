// ESLint rule `tunekit/stage-boundaries`: a file in src/<stage>/ may import another stage only through that
// stage's public surface, src/<other>/index.ts. Deep imports couple a stage to another's file layout, so a move
// inside one stage breaks the others; the index is the contract (ARCHITECTURE.md, "Modules and what they own").
// Testing helpers (src/<stage>/testing/, …/fixtures/) may be imported deep, but only by tests and other helpers:
// they are not built into dist/.
import { dirname, relative, resolve, sep } from "node:path";

const SHARED = new Set(["test-support"]);

function stageOf(srcRoot, abs) {
  const rel = relative(srcRoot, abs);
  if (rel.startsWith("..")) return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? { stage: parts[0], rest: parts.slice(1).join("/") } : null;
}

const isTestFile = (file) => /\.test\.ts$/.test(file) || /[\\/](testing|fixtures|test-support)[\\/]/.test(file);
const isHelper = (rest) => /(^|\/)(testing|fixtures)\//.test(rest);

/** @type {import("eslint").Rule.RuleModule} */
const stageBoundaries = {
  meta: {
    type: "problem",
    docs: { description: "import other stages only through their index.ts" },
    schema: [],
    messages: {
      deep: "'{{spec}}' reaches into src/{{stage}}/{{rest}}: import it from src/{{stage}}/index.js, the stage's public surface (export it there if it is missing).",
      helper: "'{{spec}}' is a testing helper of src/{{stage}}: only tests and other testing helpers may import it (it is not built into dist/).",
    },
  },
  create(context) {
    const file = context.filename;
    const srcRoot = resolve(context.cwd, "src");
    const from = stageOf(srcRoot, file);
    if (!from) return {};
    function check(node) {
      const spec = node.source && node.source.value;
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const to = stageOf(srcRoot, resolve(dirname(file), spec));
      if (!to || to.stage === from.stage || SHARED.has(to.stage)) return;
      if (to.rest === "index.js" || to.rest === "index.ts") return;
      if (isHelper(to.rest)) {
        if (!isTestFile(file)) context.report({ node: node.source, messageId: "helper", data: { spec, stage: to.stage } });
        return;
      }
      context.report({ node: node.source, messageId: "deep", data: { spec, stage: to.stage, rest: to.rest } });
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { "stage-boundaries": stageBoundaries } };
