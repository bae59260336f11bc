import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewaySectionSchema, type GatewaySection } from "../../config/index.js";
import { Gateway, type StartGatewayOptions } from "../server.js";

/** A gateway on an ephemeral loopback port with its own temporary .tunekit/. */
export async function startTestGateway(
  config: Record<string, unknown>,
  options: Partial<StartGatewayOptions> = {},
): Promise<{ gateway: Gateway; stateDir: string; config: GatewaySection; stop: () => Promise<void> }> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "tunekit-gw-"));
  const parsed = GatewaySectionSchema.parse({ port: 0, ...config });
  const gateway = await Gateway.start({ config: parsed, stateDir, env: {}, ...options });
  return {
    gateway,
    stateDir,
    config: parsed,
    stop: async () => {
      await gateway.close(1000);
      if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
