import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";
import { PYTHON_STRIP_FUNCTIONS, patchPythonStringMethods } from "./jinja-python-strings.js";
import type { Message, Tool } from "../data/index.js";
import { ConfigError, DataError } from "../errors/index.js";
import type { Tokenizer } from "./load-tokenizer.js";

/** ChatML, the named default for models without a chat template (`--template chatml`). */
export const CHATML_TEMPLATE =
  "{{- bos_token }}{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + (message.content or '') }}" +
  "{%- if message.tool_calls %}{%- for call in message.tool_calls %}{%- if message.content or not loop.first %}{{- '\\n' }}{%- endif %}{{- '<tool_call>\\n' + ({'name': call.function.name, 'arguments': call.function.arguments} | tojson) + '\\n</tool_call>' }}{%- endfor %}{%- endif %}" +
  "{{- '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export const NAMED_TEMPLATES: Readonly<Record<string, string>> = { chatml: CHATML_TEMPLATE };

/** A message as chat templates expect it: tool-call arguments parsed to objects, content never null. */
export interface TemplateMessage {
  role: string;
  content: string;
  name?: string;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: unknown } }[];
  tool_call_id?: string;
}

export interface RenderOptions {
  tools?: readonly Tool[];
  addGenerationPrompt: boolean;
  /** Extra template variables, e.g. `{ enable_thinking: false }` for Qwen3. */
  variables?: Readonly<Record<string, unknown>>;
}

export interface ChatTemplate {
  /** "model" (the tokenizer_config.json template), a named default ("chatml") or "file:<path>". */
  readonly name: string;
  readonly source: string;
  readonly sha256: string;
  render(messages: readonly TemplateMessage[], options: RenderOptions): string;
}

export interface TemplateChoice {
  /** A named default ("chatml"), a path to a .jinja file, or undefined for the model's own template. */
  template?: string;
  /** Used only when the model has none; default "chatml". */
  fallback?: string;
}

/**
 * OpenAI-style record messages → template messages. Templates (Qwen3, Llama 3.1) index `arguments` as a mapping,
 * as transformers users pass them, so JSON-string arguments are parsed; a string that is not JSON stays a string.
 */
export function toTemplateMessages(messages: readonly Message[]): TemplateMessage[] {
  return messages.map((m) => {
    const out: TemplateMessage = { role: m.role, content: m.content ?? "" };
    if (m.name !== undefined) out.name = m.name;
    if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
    if (m.tool_calls && m.tool_calls.length > 0) {
      out.tool_calls = m.tool_calls.map((call) => {
        let args: unknown = call.function.arguments;
        try {
          args = JSON.parse(call.function.arguments);
        } catch {
          // not JSON: pass the string through; templates print strings verbatim.
        }
        return { id: call.id, type: "function", function: { name: call.function.name, arguments: args } };
      });
    }
    return out;
  });
}

function modelTemplateSource(config: Readonly<Record<string, unknown>>, hasTools: boolean): string | null {
  const value = config.chat_template;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    // Named templates: [{name: "default", template}, {name: "tool_use", template}].
    const byName = new Map<string, string>();
    for (const entry of value as { name?: unknown; template?: unknown }[]) {
      if (typeof entry.name === "string" && typeof entry.template === "string") byName.set(entry.name, entry.template);
    }
    return (hasTools ? byName.get("tool_use") : undefined) ?? byName.get("default") ?? null;
  }
  return null;
}

function compile(name: string, source: string): Template {
  try {
    return patchPythonStringMethods(new Template(source));
  } catch (cause) {
    throw new ConfigError("TOKENIZE_TEMPLATE_INVALID", `chat template ${name} does not parse: ${(cause as Error).message}`, {
      fix: "Fix the Jinja syntax of the template, or choose a named default with --template chatml.",
      cause,
    });
  }
}

/** The model's own template (tokenizer_config.json `chat_template` or chat_template.jinja), or a named default. */
export function loadChatTemplate(tokenizer: Tokenizer, choice: TemplateChoice = {}): ChatTemplate {
  let name: string;
  let source: string | null = null;
  if (choice.template !== undefined) {
    if (NAMED_TEMPLATES[choice.template] !== undefined) {
      name = choice.template;
      source = NAMED_TEMPLATES[choice.template];
    } else if (existsSync(choice.template)) {
      name = `file:${choice.template}`;
      source = readFileSync(choice.template, "utf8");
    } else {
      throw new ConfigError("TOKENIZE_TEMPLATE_UNKNOWN", `chat template ${JSON.stringify(choice.template)} is neither a named template nor a file`, {
        fix: `Use one of ${Object.keys(NAMED_TEMPLATES).join(", ")} or a path to a Jinja file.`,
      });
    }
  } else {
    const jinjaFile = `${tokenizer.modelDir}/chat_template.jinja`;
    source = modelTemplateSource(tokenizer.config, false) ?? (existsSync(jinjaFile) ? readFileSync(jinjaFile, "utf8") : null);
    name = "model";
    if (source === null) {
      const fallback = choice.fallback ?? "chatml";
      name = fallback;
      source = NAMED_TEMPLATES[fallback] ?? null;
      if (source === null) {
        throw new ConfigError("TOKENIZE_TEMPLATE_UNKNOWN", `fallback chat template ${JSON.stringify(fallback)} is not a named template`, {
          fix: `Use one of ${Object.keys(NAMED_TEMPLATES).join(", ")}.`,
        });
      }
    }
  }
  const toolSource = name === "model" ? modelTemplateSource(tokenizer.config, true) : null;
  const compiled = compile(name, source);
  const compiledTools = toolSource && toolSource !== source ? compile(`${name}:tool_use`, toolSource) : compiled;
  const special = (key: string) => {
    const v = tokenizer.config[key];
    return typeof v === "string" ? v : v && typeof v === "object" ? ((v as { content?: string }).content ?? "") : "";
  };
  const base = {
    bos_token: special("bos_token"),
    eos_token: special("eos_token"),
    unk_token: special("unk_token"),
    pad_token: special("pad_token"),
  };
  const templateName = name;
  return {
    name,
    source,
    sha256: createHash("sha256").update(source).digest("hex"),
    render(messages, options) {
      const tools = options.tools && options.tools.length > 0 ? options.tools : undefined;
      const template = tools ? compiledTools : compiled;
      try {
        return template.render({
          ...base,
          ...options.variables,
          ...PYTHON_STRIP_FUNCTIONS,
          messages,
          tools,
          add_generation_prompt: options.addGenerationPrompt,
        });
      } catch (cause) {
        // @huggingface/jinja's built-in raise_exception throws a plain Error with this prefix.
        const raised = /^Error:? /.test((cause as Error).message) || (cause as Error).message.includes("raise_exception");
        throw new DataError(
          "TOKENIZE_TEMPLATE_RENDER_FAILED",
          `chat template ${templateName} failed to render a conversation of ${messages.length} messages: ${(cause as Error).message}`,
          {
            fix: raised
              ? "The template rejected this conversation (raise_exception); fix the record (e.g. role order) or choose another template."
              : "The template uses a feature tunekit's Jinja engine lacks or the record misses a field it reads; pass --template chatml or a fixed template file.",
            details: { roles: messages.map((m) => m.role), raised },
            cause,
          },
        );
      }
    },
  };
}
