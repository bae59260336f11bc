// Child process for the registry concurrency test: appends N metric events, one transaction each, as a real
// CLI process would, then exits.
import { openWorkspace } from "../registry/index.js";

const [dir, runId, countText, tag] = process.argv.slice(2);
const ws = await openWorkspace({ dir, env: {} });
try {
  for (let i = 0; i < Number(countText); i++) {
    await ws.registry.appendRunEvents(runId, [{ type: "metric", step: i, name: `writer/${tag}`, value: i }]);
  }
} finally {
  await ws.close();
}
