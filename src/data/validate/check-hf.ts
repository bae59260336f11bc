import type { IssueList } from "./issue.js";
import { datasetIssue, kindError, type TargetChecker, type TargetOptions } from "./target.js";
import { HF_RULES as RULES } from "./rules/hf.js";
import type { ChatRecord } from "../record.js";
import { DataError } from "../../errors/index.js";

/**
 * HF target: a chat record is valid when the model's chat template renders it (the renderer comes from
 * src/tokenize, passed in as `renderChat`), and, when a context limit and counter are given, fits it.
 */
export function hfChecker(options: TargetOptions): TargetChecker {
  const { renderChat, maxTokens, countTokens } = options;
  return {
    rules: RULES,
    checkRecord(value, shape, issues: IssueList) {
      if (!(RULES.recordKinds as readonly string[]).includes(shape)) return kindError(issues, "hf", shape, RULES.recordKinds);
      let text: string;
      if (shape === "text") {
        text = value.text as string;
      } else {
        if (!renderChat) {
          throw new DataError("DATA_NO_CHAT_TEMPLATE", "validating chat records for --target hf needs the model's chat template", {
            fix: "pass --model with a Hugging Face model folder or tokenizer name",
          });
        }
        try {
          text = renderChat(value as unknown as ChatRecord);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          issues.error("messages", "DATA_TEMPLATE_RENDER_FAILED", `the chat template cannot render this record: ${reason}`,
            "check the roles and turn order the model's template accepts (e.g. some templates reject system turns or require alternation)");
          return;
        }
      }
      if (maxTokens !== undefined && countTokens) {
        const n = countTokens(text);
        if (n > maxTokens) {
          issues.error(shape === "text" ? "text" : "messages", "DATA_TOO_MANY_TOKENS",
            `the rendered record has ${n} tokens, over the ${maxTokens}-token context`, "shorten or split it, or raise the sequence length");
        }
      }
    },
    checkDataset(valid) {
      return valid < RULES.minExamples ? [datasetIssue("DATA_TOO_FEW_EXAMPLES", "error", "no valid records", "add records")] : [];
    },
  };
}
