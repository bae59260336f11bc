import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { BedrockBackend } from "./bedrock/backend.js";
import { OpenAiBackend } from "./openai/backend.js";
import type { HostedOptions } from "./spec.js";
import { TogetherBackend } from "./together/backend.js";
import type { FineTuneBackend, HostedProvider } from "./types.js";

export interface BackendContext {
  epochs?: number;
  seed?: number;
  env?: NodeJS.ProcessEnv;
  /** Tests only: static AWS credentials instead of the default chain. */
  awsCredentials?: AwsCredentialIdentity;
  maxRetries?: number;
}

/** The backend for `provider:` in train.yaml. */
export function createBackend(provider: HostedProvider, hosted: HostedOptions, ctx: BackendContext = {}): FineTuneBackend {
  switch (provider) {
    case "openai":
      return new OpenAiBackend({ options: hosted.openai, epochs: ctx.epochs, seed: ctx.seed, env: ctx.env, maxRetries: ctx.maxRetries });
    case "bedrock":
      return new BedrockBackend({ options: hosted.bedrock, epochs: ctx.epochs, credentials: ctx.awsCredentials, maxAttempts: ctx.maxRetries === undefined ? undefined : ctx.maxRetries + 1 });
    case "together":
      return new TogetherBackend({ options: hosted.together, epochs: ctx.epochs, seed: ctx.seed, env: ctx.env, maxRetries: ctx.maxRetries });
  }
}
