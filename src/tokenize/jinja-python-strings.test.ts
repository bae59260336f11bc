import { Template } from "@huggingface/jinja";
import { describe, expect, it } from "vitest";
import { PYTHON_STRIP_FUNCTIONS, patchPythonStringMethods } from "./jinja-python-strings.js";

function render(source: string, vars: Record<string, unknown>): string {
  return patchPythonStringMethods(new Template(source)).render({ ...vars, ...PYTHON_STRIP_FUNCTIONS });
}

describe("Python string methods in chat templates", () => {
  it("strips only the given characters, as Python does", () => {
    expect(
      render("[{{ s.lstrip('\\n') }}|{{ s.rstrip(' x') }}|{{ s.strip('\\n ') }}|{{ s.strip() }}|{{ s.split('</think>')[-1].lstrip('\\n') }}]", {
        s: "\n  a b x \n",
      }),
    ).toBe("[  a b x \n|\n  a b x \n|a b x|a b x|  a b x \n]");
  });

  it("keeps leading spaces of an assistant turn in the Qwen3 pattern", () => {
    expect(render("{{ (c.split('</think>')[-1]).lstrip('\\n') }}", { c: "<think>r</think>\n\n  double  spaces" })).toBe("  double  spaces");
  });
});
