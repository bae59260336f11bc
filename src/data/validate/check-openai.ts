import { IssueList, show, type ValidationIssue } from "./issue.js";
import type { ShapeKind } from "./structure.js";
import { datasetIssue, kindError, type TargetChecker, type TargetOptions } from "./target.js";
import { OPENAI_DPO_RULES, OPENAI_RULES } from "./rules/openai.js";
import { chatTokensIfNear } from "./token-count.js";
import { DataError } from "../../errors/index.js";

type Msg = Record<string, unknown>;

export function openAiChecker(options: TargetOptions): TargetChecker {
  const model = options.model ?? OPENAI_RULES.defaultModel;
  const limit = OPENAI_RULES.exampleTokenLimits[model];
  const encoding = OPENAI_RULES.encodings[model];
  if (limit === undefined || encoding === undefined) {
    throw new DataError("DATA_UNKNOWN_MODEL", `no OpenAI fine-tuning token limit is known for model "${model}"`, {
      fix: `use one of ${Object.keys(OPENAI_RULES.exampleTokenLimits).join(", ")}, or add the model to src/data/validate/rules/openai.ts`,
    });
  }
  return {
    rules: OPENAI_RULES,
    checkRecord(value, shape: ShapeKind, issues: IssueList) {
      if (shape !== "chat") return kindError(issues, "openai", shape, OPENAI_RULES.recordKinds);
      const messages = value.messages as Msg[];
      checkOpenAiMessages(messages, "messages", issues);
      if (!messages.some((m) => m.role === "assistant")) {
        issues.error("messages", "DATA_NO_ASSISTANT", "messages has no assistant message to learn from",
          "add the assistant reply, or drop the record (`tunekit data clean` reports these)");
      }
      const tokens = chatTokensIfNear(messages, limit, encoding);
      if (tokens !== undefined && tokens > limit) {
        issues.error("messages", "DATA_TOO_MANY_TOKENS",
          `the example has ${tokens} tokens (${encoding}), over ${model}'s limit of ${limit}`,
          "shorten or split the conversation; OpenAI truncates or rejects examples over the limit");
      }
    },
    checkDataset(valid: number): ValidationIssue[] {
      if (valid < OPENAI_RULES.minExamples) {
        return [datasetIssue("DATA_TOO_FEW_EXAMPLES", "error",
          `${valid} valid examples; OpenAI requires at least ${OPENAI_RULES.minExamples}`,
          `add examples (OpenAI suggests starting with ${OPENAI_RULES.recommendedMinExamples}–100)`)];
      }
      if (valid < OPENAI_RULES.recommendedMinExamples) {
        return [datasetIssue("DATA_FEW_EXAMPLES", "warning",
          `${valid} valid examples; OpenAI usually sees clear improvements from ${OPENAI_RULES.recommendedMinExamples}–100`,
          "collect more examples; simple tasks often need 100–500, complex ones thousands")];
      }
      return [];
    },
  };
}

/** Roles, weight placement and tool call pairing, shared by chat and DPO inputs. */
function checkOpenAiMessages(messages: Msg[], path: string, issues: IssueList): void {
  const callIds = new Set<string>();
  messages.forEach((m, i) => {
    const p = `${path}[${i}]`;
    if (m.weight !== undefined && !(OPENAI_RULES.weightRoles as readonly unknown[]).includes(m.role)) {
      issues.error(`${p}.weight`, "DATA_WEIGHT_NOT_ASSISTANT", `${p}.weight is set on a ${show(m.role)} message`,
        "weight is only allowed on assistant messages; remove it");
    }
    if (Array.isArray(m.tool_calls)) {
      if (m.role !== "assistant") {
        issues.error(`${p}.tool_calls`, "DATA_TOOL_CALLS_NOT_ASSISTANT", `${p}.tool_calls is on a ${show(m.role)} message`,
          "only assistant messages may carry tool_calls");
      }
      for (const call of m.tool_calls as { id?: unknown }[]) if (typeof call?.id === "string") callIds.add(call.id);
    }
    if (m.role === "tool") {
      if (typeof m.tool_call_id !== "string") {
        issues.error(`${p}.tool_call_id`, "DATA_TOOL_CALL_ID_MISSING", `${p} is a tool message without tool_call_id`,
          "set tool_call_id to the id of the assistant tool call this message answers");
      } else if (!callIds.has(m.tool_call_id)) {
        issues.error(`${p}.tool_call_id`, "DATA_TOOL_CALL_ID_UNKNOWN",
          `${p}.tool_call_id ${show(m.tool_call_id)} matches no earlier assistant tool call`,
          "use the id of a tool call made by an earlier assistant message");
      }
    }
  });
}

export function openAiDpoChecker(): TargetChecker {
  const rules = OPENAI_DPO_RULES;
  return {
    rules,
    checkRecord(value, shape, issues) {
      if (shape !== "preference") return kindError(issues, "openai-dpo", shape, rules.recordKinds);
      const input = (value.input as { messages: Msg[] }).messages;
      checkOpenAiMessages(input, "input.messages", issues);
      if (input[input.length - 1]?.role !== "user") {
        issues.warn("input.messages", "DATA_DPO_INPUT_NOT_USER_LAST", "input.messages does not end with a user message",
          "end the input with the user turn the two outputs answer");
      }
      for (const key of ["preferred_output", "non_preferred_output"] as const) {
        const out = value[key] as Msg[];
        if (out.length !== rules.outputMessages || out[0]?.role !== rules.outputRole) {
          issues.error(key, "DATA_DPO_OUTPUT_SHAPE",
            `${key} must hold exactly ${rules.outputMessages} ${rules.outputRole} message (has ${out.length}, first role ${show(out[0]?.role)})`,
            `write ${key} as [{"role": "assistant", "content": "..."}]`);
        }
      }
    },
    checkDataset(valid) {
      return valid < rules.minExamples
        ? [datasetIssue("DATA_TOO_FEW_EXAMPLES", "error",
            `${valid} valid examples; OpenAI requires at least ${rules.minExamples}`, "add preference pairs")]
        : [];
    },
  };
}
