import { show, type IssueList, type ValidationIssue } from "./issue.js";
import { datasetIssue, kindError, type TargetChecker, type TargetOptions } from "./target.js";
import { BEDROCK_LLAMA_RULES as LLAMA, BEDROCK_NOVA_RULES as NOVA, bedrockModelLimits } from "./rules/bedrock.js";
import { chatTokensIfNear } from "./token-count.js";

type Msg = Record<string, unknown>;

/**
 * Checks shared by Bedrock's Nova and Llama targets, on the canonical chat record as it will be exported:
 * leading system messages become the system prompt, the rest must be user/assistant turns with text content,
 * user first, strictly alternating, assistant last. `family` names the target in messages.
 */
function checkTurns(value: Record<string, unknown>, issues: IssueList, family: string): { start: number; turns: Msg[] } {
  if (value.tools !== undefined) {
    issues.error("tools", "DATA_BEDROCK_EXTRA_KEY", `tools are not supported by ${family} fine-tuning on Bedrock`, "remove tools; a record may only have system, user and assistant text turns");
  }
  const messages = value.messages as Msg[];
  let start = 0;
  while (start < messages.length && messages[start]!.role === "system") start += 1;
  const turns = messages.slice(start);
  if (turns.length < 2) {
    issues.error("messages", "DATA_BEDROCK_TOO_FEW_MESSAGES", `${turns.length} user/assistant message(s); ${family} needs at least 2`, "give each record at least one user message followed by an assistant reply");
  }
  turns.forEach((m, k) => {
    const p = `messages[${start + k}]`;
    if (m.role !== "user" && m.role !== "assistant") {
      issues.error(`${p}.role`, "DATA_BEDROCK_ROLE", `${p}.role ${show(m.role)} is not one of user|assistant` + (m.role === "system" ? " (a system message is only allowed at the start)" : ""),
        m.role === "system" ? "move the system message to the start" : "remove tool turns, or fold their text into the user turn");
    } else if (m.role !== (k % 2 === 0 ? "user" : "assistant")) {
      issues.error(`${p}.role`, "DATA_BEDROCK_NOT_ALTERNATING", `${p}.role is ${show(m.role)}; ${family} needs ${k % 2 === 0 ? "user" : "assistant"} here (user first, then strictly alternating)`,
        "merge consecutive turns of the same role, and start with a user turn");
    }
    for (const key of Object.keys(m)) {
      if (key !== "role" && key !== "content") issues.error(`${p}.${key}`, "DATA_BEDROCK_EXTRA_KEY", `${p}.${key} is not allowed; ${family} turns have only role and text content`, `remove ${key}`);
    }
  });
  messages.forEach((m, i) => {
    if (typeof m.content !== "string" || m.content.trim() === "") {
      issues.error(`messages[${i}].content`, "DATA_BEDROCK_EMPTY_CONTENT", `messages[${i}].content is ${show(m.content)}; ${family} needs non-empty text in every turn`, "give the turn its text, or drop the turn");
    }
  });
  if (turns.length > 0 && turns[turns.length - 1]!.role !== "assistant") {
    issues.error(`messages[${messages.length - 1}]`, "DATA_BEDROCK_LAST_NOT_ASSISTANT", "the last message is not an assistant message",
      "end each record with the assistant reply to learn (`tunekit data clean` drops trailing user turns)");
  }
  return { start, turns };
}

function recordCountIssues(valid: number, limits: ReturnType<typeof bedrockModelLimits>, family: string): ValidationIssue[] {
  if (valid < limits.minTrainingRecords) {
    return [datasetIssue("DATA_TOO_FEW_EXAMPLES", "error", `${valid} valid records; ${family} (${limits.model}) needs at least ${limits.minTrainingRecords}`, "add records")];
  }
  if (valid > limits.maxTrainingRecords) {
    return [datasetIssue("DATA_TOO_MANY_EXAMPLES", "error", `${valid} valid records; ${family} (${limits.model}) accepts at most ${limits.maxTrainingRecords} training records`,
      `hold at least ${valid - limits.maxTrainingRecords} records out of training with \`tunekit data split NAME --val-count N --test-count M\`, or remove duplicates with \`tunekit data dedupe NAME\``)];
  }
  return [];
}

/** Amazon Nova Micro / Lite / Pro (`--target bedrock-nova`, `--model` picks one model's limits). */
export function bedrockNovaChecker(options: TargetOptions = {}): TargetChecker {
  const limits = bedrockModelLimits(NOVA.models, options.model);
  return {
    rules: NOVA,
    checkRecord(value, shape, issues) {
      if (shape !== "chat") return kindError(issues, "bedrock-nova", shape, NOVA.recordKinds);
      checkTurns(value, issues, "Amazon Nova");
      const messages = value.messages as Msg[];
      messages.forEach((m, i) => {
        if (typeof m.content !== "string") return;
        const bad = NOVA.reservedSubstrings.find((r) => (m.content as string).includes(r));
        if (bad) {
          issues.error(`messages[${i}].content`, "DATA_BEDROCK_FORBIDDEN_TEXT", `messages[${i}].content contains ${JSON.stringify(bad)}, a term Amazon Nova reserves (the job would fail on it)`,
            `replace ${JSON.stringify(bad)} with a word of similar meaning (e.g. "${bad.replace(/[:<>[\]]/g, "").toLowerCase()} -")`);
        }
      });
      const tokens = chatTokensIfNear(messages as never, limits.maxTokensPerRecord, NOVA.estimateEncoding);
      if (tokens !== undefined && tokens > limits.maxTokensPerRecord) {
        issues.error("messages", "DATA_TOO_MANY_TOKENS", `the record has about ${tokens} tokens (${NOVA.estimateEncoding} estimate), over Amazon Nova's ~${limits.maxTokensPerRecord} (${limits.model})`, "shorten or split the conversation");
      }
    },
    checkDataset: (valid) => recordCountIssues(valid, limits, "Amazon Nova"),
  };
}

/** Meta Llama 3.1 / 3.2 (`--target bedrock-llama`): single-turn records exported as prompt/completion. */
export function bedrockLlamaChecker(options: TargetOptions = {}): TargetChecker {
  const limits = bedrockModelLimits(LLAMA.models, options.model);
  return {
    rules: LLAMA,
    checkRecord(value, shape, issues) {
      if (shape !== "chat") return kindError(issues, "bedrock-llama", shape, LLAMA.recordKinds);
      const { start, turns } = checkTurns(value, issues, "Meta Llama");
      if (turns.length > 2) {
        issues.error("messages", "DATA_BEDROCK_MULTI_TURN", `${turns.length} user/assistant turns; Bedrock's prompt/completion format for Meta Llama holds one user prompt and one reply`,
          "keep one exchange per record (split conversations into records), or use --target bedrock-nova, which takes multi-turn conversations");
      }
      if (start > 0) {
        issues.warn("messages", "DATA_BEDROCK_SYSTEM_FOLDED", "the system message will be put before the user prompt (prompt/completion has no system field)",
          "nothing to do if that is intended; otherwise move the instructions into the user turn yourself");
      }
      const chars = (value.messages as Msg[]).reduce((n, m) => n + (typeof m.content === "string" ? m.content.length : 0), 0);
      const tokens = Math.ceil(chars / LLAMA.charsPerToken);
      if (tokens > limits.maxTokensPerRecord) {
        issues.error("messages", "DATA_TOO_MANY_TOKENS", `the record has about ${tokens} tokens (${chars} characters ÷ ${LLAMA.charsPerToken}), over ${limits.maxTokensPerRecord} (${limits.model})`, "shorten the prompt or the reply");
      }
    },
    checkDataset: (valid) => recordCountIssues(valid, limits, "Meta Llama"),
  };
}
