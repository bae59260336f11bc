import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../test-support/paths.js";
import { loadTokenizer } from "../tokenize/index.js";
import { buildModelfile } from "./modelfile.js";

const demo = loadTokenizer(resolve(join(REPO_ROOT, "models", "demo-base")));

describe("Ollama Modelfile", () => {
  it("writes a ChatML template as Ollama's Go template, with the end-of-turn stop", () => {
    const source = demo.config.chat_template as string;
    expect(buildModelfile({ ggufFile: "model.gguf", tokenizer: demo, chatTemplate: source })).toEqual({
      text:
        'FROM ./model.gguf\nTEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"""\nPARAMETER stop "<|im_end|>"\nPARAMETER temperature 0\n',
      template: "go",
      stop: ["<|im_end|>"],
    });
  });

  it("leaves any other template to Ollama's reading of tokenizer.chat_template", () => {
    const other = "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}";
    expect(buildModelfile({ ggufFile: "model.gguf", tokenizer: demo, chatTemplate: other })).toEqual({
      text: 'FROM ./model.gguf\n# TEMPLATE: Ollama reads the chat template from the GGUF (tokenizer.chat_template).\nPARAMETER stop "<|im_end|>"\nPARAMETER temperature 0\n',
      template: "gguf",
      stop: ["<|im_end|>"],
    });
  });
});
