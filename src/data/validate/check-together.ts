import { show, type IssueList } from "./issue.js";
import { datasetIssue, kindError, type TargetChecker } from "./target.js";
import { TOGETHER_RULES as RULES } from "./rules/together.js";

type Msg = Record<string, unknown>;

export function togetherChecker(): TargetChecker {
  return {
    rules: RULES,
    checkRecord(value, shape, issues: IssueList) {
      if (!(RULES.recordKinds as readonly string[]).includes(shape)) {
        return kindError(issues, "together", shape, RULES.recordKinds);
      }
      if (shape === "text") return;
      const lists: [string, Msg[]][] = shape === "chat"
        ? [["messages", value.messages as Msg[]]]
        : [["input.messages", (value.input as { messages: Msg[] }).messages],
           ["preferred_output", value.preferred_output as Msg[]],
           ["non_preferred_output", value.non_preferred_output as Msg[]]];
      for (const [path, messages] of lists) {
        messages.forEach((m, i) => {
          const p = `${path}[${i}]`;
          if (!(RULES.roles as readonly unknown[]).includes(m.role)) {
            issues.error(`${p}.role`, "DATA_TOGETHER_ROLE", `${p}.role ${show(m.role)} is not one of ${RULES.roles.join("|")}`,
              "Together conversations use system, user and assistant turns; fold tool output into a user turn");
          }
          for (const key of ["tool_calls", "tool_call_id", "name"]) {
            if (m[key] !== undefined) {
              issues.error(`${p}.${key}`, "DATA_TOGETHER_EXTRA_KEY", `${p}.${key} is not supported by Together`, `remove ${key}`);
            }
          }
        });
      }
      if (shape === "chat" && RULES.requireAssistant && !(value.messages as Msg[]).some((m) => m.role === "assistant")) {
        issues.error("messages", "DATA_NO_ASSISTANT", "messages has no assistant message to learn from",
          "add the assistant reply or drop the record");
      }
      if (value.tools !== undefined) {
        issues.error("tools", "DATA_TOGETHER_EXTRA_KEY", "tools are not supported in Together conversational data", "remove tools");
      }
    },
    checkDataset(valid) {
      return valid < RULES.minExamples
        ? [datasetIssue("DATA_TOO_FEW_EXAMPLES", "error", `${valid} valid examples`, "add examples")]
        : [];
    },
  };
}
