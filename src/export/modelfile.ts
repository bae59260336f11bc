import { CHATML_TEMPLATE, END_OF_TURN_TOKENS, loadChatTemplate, type Tokenizer } from "../tokenize/index.js";

/**
 * The Ollama Modelfile beside model.gguf. A ChatML template (tunekit's default, Qwen's) is written as Ollama's
 * Go template; any other Jinja template is left to Ollama, which reads `tokenizer.chat_template` from the GGUF
 * and matches it against the templates it knows (docs/export.md says how to check). `PARAMETER stop` lists the
 * end-of-turn tokens so generation ends where tunekit's does.
 */
export const CHATML_GO_TEMPLATE =
  "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n";

const PROBE = [
  { role: "system", content: "S" },
  { role: "user", content: "U1" },
  { role: "assistant", content: "A1" },
  { role: "user", content: "U2" },
];

/** True when `source` renders conversations exactly as ChatML does (a leading BOS aside). */
export function isChatMl(tokenizer: Tokenizer, source: string): boolean {
  const render = (src: string) => {
    const t = loadChatTemplateFromSource(tokenizer, src);
    return t.render(PROBE, { addGenerationPrompt: true }).replace(tokenizer.bosToken ?? "\u0000", "");
  };
  try {
    return render(source) === render(CHATML_TEMPLATE);
  } catch {
    return false;
  }
}

function loadChatTemplateFromSource(tokenizer: Tokenizer, source: string) {
  // loadChatTemplate reads the model's own template from tokenizer.config; give it this source instead.
  return loadChatTemplate({ ...tokenizer, config: { ...tokenizer.config, chat_template: source } });
}

export interface ModelfileInput {
  ggufFile: string;
  tokenizer: Tokenizer;
  chatTemplate: string | null;
}

export interface BuiltModelfile {
  text: string;
  /** "go" when a TEMPLATE was written, "gguf" when Ollama reads tokenizer.chat_template, "none" without one. */
  template: "go" | "gguf" | "none";
  stop: string[];
}

export function buildModelfile(input: ModelfileInput): BuiltModelfile {
  const stop = [...new Set([...END_OF_TURN_TOKENS.filter((t) => input.tokenizer.specialTokens[t] !== undefined), ...(input.tokenizer.eosToken ? [input.tokenizer.eosToken] : [])])];
  const lines = [`FROM ./${input.ggufFile}`];
  let template: BuiltModelfile["template"] = "none";
  if (input.chatTemplate !== null) {
    if (isChatMl(input.tokenizer, input.chatTemplate)) {
      template = "go";
      lines.push(`TEMPLATE """${CHATML_GO_TEMPLATE}"""`);
    } else {
      template = "gguf";
      lines.push("# TEMPLATE: Ollama reads the chat template from the GGUF (tokenizer.chat_template).");
    }
  }
  for (const s of stop) lines.push(`PARAMETER stop ${JSON.stringify(s)}`);
  lines.push("PARAMETER temperature 0");
  return { text: `${lines.join("\n")}\n`, template, stop };
}
