import { join } from "node:path";
import { RuleTester } from "eslint";
import { afterAll, describe, it } from "vitest";
import plugin from "./eslint-stage-boundaries.js";

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.afterAll = afterAll;

const rule = plugin.rules["stage-boundaries"];
const at = (path: string) => join(process.cwd(), path);
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: "module" } });

tester.run("stage-boundaries", rule, {
  valid: [
    { filename: at("src/eval/suite/run-suite.ts"), code: `import { loadTokenizer } from "../../tokenize/index.js";` },
    { filename: at("src/eval/suite/run-suite.ts"), code: `import { summarize } from "./summarize.js";` },
    { filename: at("src/eval/suite/run-suite.test.ts"), code: `import { makeTempWorkspace } from "../../data/testing/temp-workspace.js";` },
    { filename: at("src/gateway/server.test.ts"), code: `import { FIXTURES } from "../test-support/paths.js";` },
    { filename: at("src/index.ts"), code: `export { Gateway } from "./gateway/index.js";` },
    { filename: at("bench/gateway.ts"), code: `import { Gateway } from "../src/gateway/server.js";` },
  ],
  invalid: [
    {
      filename: at("src/eval/suite/run-suite.ts"),
      code: `import { loadTokenizer } from "../../tokenize/load-tokenizer.js";`,
      errors: [{ messageId: "deep" }],
    },
    {
      filename: at("src/cli/serve.ts"),
      code: `export { Gateway } from "../gateway/server.js";`,
      errors: [{ messageId: "deep" }],
    },
    {
      filename: at("src/cli/serve.ts"),
      code: `const m = await import("../config/schema.js");`,
      errors: [{ messageId: "deep" }],
    },
    {
      filename: at("src/quickstart/run-quickstart.ts"),
      code: `import { makeTempWorkspace } from "../data/testing/temp-workspace.js";`,
      errors: [{ messageId: "helper" }],
    },
  ],
});
