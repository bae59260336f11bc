import { AuthError, ProviderError, RateLimitError, TunekitError } from "../errors/index.js";
import { redactSecrets } from "../log/index.js";
import type { HostedProvider } from "./types.js";

/**
 * Maps an SDK error (openai / together-ai APIError, AWS SDK ServiceException, a network failure) to one
 * actionable ProviderError with a stable PROVIDER_… code. Messages pass through secret redaction: SDKs echo
 * request details, and a key must never reach a terminal or the registry.
 */
interface SdkErrorShape {
  status?: number;
  name?: string;
  code?: string | null;
  type?: string;
  message?: string;
  error?: { message?: string; code?: string; type?: string; param?: string };
  $metadata?: { httpStatusCode?: number };
}

const CONSOLE: Record<HostedProvider, string> = {
  openai: "https://platform.openai.com/settings/organization/billing",
  bedrock: "the AWS Service Quotas console for Amazon Bedrock",
  together: "https://api.together.ai/settings/billing",
};

const KEY_ENV: Record<HostedProvider, string> = {
  openai: "OPENAI_API_KEY",
  bedrock: "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an AWS profile)",
  together: "TOGETHER_API_KEY",
};

export function toProviderError(provider: HostedProvider, error: unknown, action: string): TunekitError {
  if (error instanceof TunekitError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const status = e.status ?? e.$metadata?.httpStatusCode;
  const name = e.name ?? "";
  const raw = redactSecrets(String(e.error?.message ?? e.message ?? error)).slice(0, 500);
  const code = String(e.code ?? e.error?.code ?? e.type ?? "");
  const details = { provider, action, status, providerCode: code || name || undefined };
  const what = `${provider}: ${action} failed`;

  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|Connection error|ETIMEDOUT|socket hang up/i.test(`${raw} ${name}`) && !status) {
    return new ProviderError("PROVIDER_UNREACHABLE", `${what}: cannot reach the API (${raw})`, {
      fix: `check your network and the base URL / endpoint configured for ${provider}`, details, cause: error,
    });
  }
  if (status === 401 || /UnrecognizedClient|InvalidSignature|ExpiredToken|invalid_api_key/i.test(`${name} ${code}`)) {
    return new AuthError("PROVIDER_AUTH_FAILED", `${what}: the credentials were rejected (${raw})`, {
      fix: `set a valid key in ${KEY_ENV[provider]}; tunekit reads it from the environment and never stores it`, details, cause: error,
    });
  }
  if (status === 403 || /AccessDenied/i.test(name)) {
    return new AuthError("PROVIDER_PERMISSION_DENIED", `${what}: access denied (${raw})`, {
      fix: provider === "bedrock"
        ? "grant bedrock:CreateModelCustomizationJob, iam:PassRole on the role and s3 access to the bucket, and request model access for the base model in the Bedrock console"
        : "use a key of a project/organization that is allowed to fine-tune",
      details, cause: error,
    });
  }
  if (/insufficient_quota|ServiceQuotaExceeded|quota/i.test(`${code} ${name} ${raw}`)) {
    return new RateLimitError("PROVIDER_QUOTA_EXCEEDED", `${what}: quota or credit exhausted (${raw})`, {
      fix: `add credit or raise the quota (${CONSOLE[provider]}), or wait for running jobs to finish`, details, cause: error,
    });
  }
  if (status === 429 || /Throttling|TooManyRequests|rate_limit/i.test(`${name} ${code}`)) {
    return new RateLimitError("PROVIDER_RATE_LIMITED", `${what}: rate limited (${raw})`, {
      fix: "wait a minute and retry; `tunekit runs watch RUN` resumes polling a submitted job", details, cause: error,
    });
  }
  if (/region|UnknownEndpoint|not available in (this|the) region/i.test(`${raw} ${name}`)) {
    return new ProviderError("PROVIDER_REGION_UNSUPPORTED", `${what}: not available in the configured region (${raw})`, {
      fix: "Claude 3 Haiku fine-tuning runs in us-west-2: set hosted.bedrock.region: us-west-2 and an S3 bucket in that region",
      details, cause: error,
    });
  }
  if (e.error?.param === "model" || /model identifier is invalid|not available for fine-tuning|model \S+ (is not supported|cannot be fine-tuned|does not exist)|unsupported (base )?model|model not supported/i.test(raw)) {
    return new ProviderError("PROVIDER_UNSUPPORTED_MODEL", `${what}: the model cannot be fine-tuned here (${raw})`, {
      fix: "use a fine-tunable base model (`tunekit estimate` lists the catalog) and check your account has access to it", details, cause: error,
    });
  }
  if (/file|jsonl|training_file|validation_file|trainingDataConfig|S3 ?Uri|format/i.test(`${e.error?.param ?? ""} ${raw}`) && (status === 400 || status === 422 || /Validation/i.test(name))) {
    return new ProviderError("PROVIDER_INVALID_FILE", `${what}: the provider rejected the data file (${raw})`, {
      fix: `validate the export first: \`tunekit data validate DATASET --target ${provider}\`, fix the reported lines, export again`, details, cause: error,
    });
  }
  if (status === 404 || /ResourceNotFound|NotFound/i.test(name)) {
    return new ProviderError("PROVIDER_NOT_FOUND", `${what}: not found (${raw})`, {
      fix: "check the job id and that the credentials belong to the account that created the job", details, cause: error,
    });
  }
  if (status === 400 || status === 422 || /Validation/i.test(name)) {
    return new ProviderError("PROVIDER_INVALID_REQUEST", `${what}: the request was rejected (${raw})`, {
      fix: "fix the setting named in the message in train.yaml (hosted.<provider>…) and submit again", details, cause: error,
    });
  }
  return new ProviderError("PROVIDER_REQUEST_FAILED", `${what}${status ? ` (HTTP ${status})` : ""}: ${raw}`, {
    fix: "retry later; if it persists, check the provider's status page", details, cause: error,
  });
}

/** Runs one provider call, mapping any failure. */
export async function callProvider<T>(provider: HostedProvider, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toProviderError(provider, error, action);
  }
}
