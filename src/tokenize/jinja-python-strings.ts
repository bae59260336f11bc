import type { Template } from "@huggingface/jinja";

/**
 * @huggingface/jinja implements `str.strip()`, `lstrip()` and `rstrip()` without their `chars` argument: it
 * always strips whitespace. Python's Jinja (what transformers' apply_chat_template uses) strips only the given
 * characters, and real templates depend on it — Qwen3 renders an assistant turn as
 * `content.split('</think>')[-1].lstrip('\n')`, keeping leading spaces. Found by the GPU parity run
 * (docs/tokenize-parity.md): 70 of 1,200 Qwen3 conversations rendered differently.
 *
 * The fix rewrites, in the parsed template, every `x.strip(chars)` call that has arguments into a call of a
 * global function with Python's semantics; calls without arguments keep the engine's (correct) behaviour.
 */
const METHODS = new Set(["strip", "lstrip", "rstrip"]);
export const PYTHON_STRIP_PREFIX = "__tunekit_py_";

type Node = { type?: string; [key: string]: unknown };

export function patchPythonStringMethods(template: Template): Template {
  const seen = new Set<object>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    const n = node as Node;
    for (const value of Object.values(n)) visit(value);
    if (n.type !== "CallExpression") return;
    const callee = n.callee as Node;
    const args = n.args as unknown[];
    const property = callee?.property as Node | undefined;
    if (callee?.type === "MemberExpression" && !callee.computed && property?.type === "Identifier" && METHODS.has(property.value as string) && args.length > 0) {
      property.value = `${PYTHON_STRIP_PREFIX}${property.value as string}`;
      n.args = [callee.object, ...args];
      n.callee = property;
    }
  };
  visit((template as unknown as { parsed: unknown }).parsed);
  return template;
}

function stripSet(value: string, chars: string | null | undefined, left: boolean, right: boolean): string {
  if (typeof value !== "string") return value;
  if (chars === null || chars === undefined) {
    return left && right ? value.trim() : left ? value.trimStart() : value.trimEnd();
  }
  const set = new Set(Array.from(chars));
  const cps = Array.from(value);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && set.has(cps[start])) start++;
  if (right) while (end > start && set.has(cps[end - 1])) end--;
  return cps.slice(start, end).join("");
}

/** The functions the rewritten calls use; pass them as render variables. */
export const PYTHON_STRIP_FUNCTIONS: Record<string, (value: string, chars?: string | null) => string> = {
  [`${PYTHON_STRIP_PREFIX}strip`]: (v, c) => stripSet(v, c, true, true),
  [`${PYTHON_STRIP_PREFIX}lstrip`]: (v, c) => stripSet(v, c, true, false),
  [`${PYTHON_STRIP_PREFIX}rstrip`]: (v, c) => stripSet(v, c, false, true),
};
