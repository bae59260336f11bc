import { show, type IssueList } from "./issue.js";
import { datasetIssue, kindError, type TargetChecker } from "./target.js";
import { BEDROCK_CLAUDE_HAIKU_RULES as RULES } from "./rules/bedrock.js";
import { chatTokensIfNear } from "./token-count.js";

type Msg = Record<string, unknown>;

/**
 * Bedrock Claude 3 Haiku checks run on the canonical chat record as it will be exported: leading system
 * messages become the `system` string, everything else must be a strictly alternating user/assistant list.
 */
export function bedrockChecker(): TargetChecker {
  return {
    rules: RULES,
    checkRecord(value, shape, issues: IssueList) {
      if (shape !== "chat") return kindError(issues, "bedrock", shape, RULES.recordKinds);
      if (value.tools !== undefined) {
        issues.error("tools", "DATA_BEDROCK_EXTRA_KEY", "tools are not supported by Bedrock Claude 3 Haiku fine-tuning",
          `remove tools; a record may only have ${RULES.allowedKeys.join(" and ")}`);
      }
      const messages = value.messages as Msg[];
      let start = 0;
      while (start < messages.length && messages[start]!.role === "system") start += 1;
      if (start > 1) {
        issues.warn("messages", "DATA_BEDROCK_MULTIPLE_SYSTEM", `${start} leading system messages will be joined into one system string`,
          "merge them into one system message");
      }
      const turns = messages.slice(start);
      if (turns.length < RULES.minMessages) {
        issues.error("messages", "DATA_BEDROCK_TOO_FEW_MESSAGES",
          `${turns.length} user/assistant message(s); Bedrock needs at least ${RULES.minMessages}`,
          "give each record at least one user message followed by an assistant reply");
      }
      turns.forEach((m, k) => {
        const i = start + k;
        const p = `messages[${i}]`;
        if (!(RULES.roles as readonly unknown[]).includes(m.role)) {
          issues.error(`${p}.role`, "DATA_BEDROCK_ROLE", `${p}.role ${show(m.role)} is not one of ${RULES.roles.join("|")}` +
            (m.role === "system" ? " (a system message is only allowed at the start)" : ""),
            m.role === "system" ? "move the system message to the start" : "remove tool turns, or fold their text into the user turn");
        } else {
          const expected = k % 2 === 0 ? "user" : "assistant";
          if (m.role !== expected) {
            issues.error(`${p}.role`, "DATA_BEDROCK_NOT_ALTERNATING", `${p}.role is ${show(m.role)}; Bedrock needs ${expected} here (user first, then strictly alternating)`,
              "merge consecutive turns of the same role, and start with a user turn");
          }
        }
        for (const key of Object.keys(m)) {
          if (key !== "role" && key !== "content") {
            issues.error(`${p}.${key}`, "DATA_BEDROCK_EXTRA_KEY", `${p}.${key} is not allowed; Bedrock messages have only role and content`,
              `remove ${key}`);
          }
        }
      });
      if (turns.length > 0 && turns[turns.length - 1]!.role !== RULES.lastRole) {
        issues.error(`messages[${messages.length - 1}]`, "DATA_BEDROCK_LAST_NOT_ASSISTANT", "the last message is not an assistant message",
          "end each record with the assistant reply to learn (`tunekit data clean` drops trailing user turns)");
      }
      messages.forEach((m, i) => {
        if (typeof m.content !== "string") return;
        for (const bad of RULES.forbiddenSubstrings) {
          if (m.content.includes(bad)) {
            issues.error(`messages[${i}].content`, "DATA_BEDROCK_FORBIDDEN_TEXT",
              `messages[${i}].content contains ${JSON.stringify(bad)}, which Claude reserves for turn markers`,
              `rewrite it (e.g. "${bad.trim().replace(":", "")} -") so it does not start a line with "${bad.trim()}"`);
          }
        }
      });
      const tokens = chatTokensIfNear(messages, RULES.maxTokensPerRecord, RULES.estimateEncoding);
      if (tokens !== undefined && tokens > RULES.maxTokensPerRecord) {
        issues.error("messages", "DATA_TOO_MANY_TOKENS",
          `the record has about ${tokens} tokens (${RULES.estimateEncoding} estimate), over Bedrock's ~${RULES.maxTokensPerRecord}`,
          "shorten or split the conversation");
      }
    },
    checkDataset(valid) {
      if (valid < RULES.minTrainingRecords) {
        return [datasetIssue("DATA_TOO_FEW_EXAMPLES", "error",
          `${valid} valid records; Bedrock Claude 3 Haiku needs at least ${RULES.minTrainingRecords}`, "add records")];
      }
      if (valid > RULES.maxTrainingRecords) {
        // data split has no --train-count: train gets what val and test leave, so the fix sizes those.
        const excess = valid - RULES.maxTrainingRecords;
        const holdOut = Math.max(excess, Math.ceil(valid * 0.05));
        const val = Math.floor(holdOut / 2);
        return [datasetIssue("DATA_TOO_MANY_EXAMPLES", "error",
          `${valid} valid records; Bedrock Claude 3 Haiku accepts at most ${RULES.maxTrainingRecords} training records`,
          `hold at least ${excess} records out of training: \`tunekit data split NAME --val-count ${val} --test-count ${holdOut - val}\` ` +
            "(train gets the rest), then `tunekit data export NAME --target bedrock`, which counts only the train split; " +
            "or remove duplicates with `tunekit data dedupe NAME`")];
      }
      return [];
    },
  };
}
