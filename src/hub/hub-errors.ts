import { HubApiError } from "@huggingface/hub";
import { AuthError, NotFoundError, ProviderError, type TunekitError } from "../errors/index.js";

/** Where a Hub call was aimed; every error names it so the user knows which model and revision failed. */
export interface HubTarget {
  repo: string;
  revision: string;
  hubUrl: string;
  hasToken: boolean;
  /** Where the name would be as a folder: a missing folder spelled like a repo id also ends up asking the Hub. */
  localPath: string;
}

/**
 * A fetch that remembers the Hub's `X-Error-Code` header (RepoNotFound, RevisionNotFound, GatedRepo,
 * EntryNotFound) by response URL: @huggingface/hub's HubApiError keeps the status and URL but not the header,
 * and the status alone cannot tell "gated" from "does not exist" (both are 401 without a token).
 */
export function createHubFetch(base: typeof fetch = fetch): { fetch: typeof fetch; errorCodeOf(url: string): string | undefined } {
  const codes = new Map<string, string>();
  const wrapped: typeof fetch = async (input, init) => {
    const res = await base(input, init);
    const code = res.headers.get("x-error-code");
    if (!res.ok && code) codes.set(res.url, code);
    return res;
  };
  return { fetch: wrapped, errorCodeOf: (url) => codes.get(url) };
}

const TOKEN_FIX = "create a read token at https://huggingface.co/settings/tokens and export HF_TOKEN=hf_… (it is sent only to the Hub, never logged or stored)";

/** Maps a failed Hub call to a TunekitError naming the repo, the revision and the fix. Never includes the token. */
export function toHubError(error: unknown, target: HubTarget, errorCodeOf: (url: string) => string | undefined): TunekitError | unknown {
  const { repo, revision, hubUrl, hasToken } = target;
  const where = `${repo}@${revision}`;
  const page = `${hubUrl}/${repo}`;
  const details = { repo, revision, hubUrl };
  if (error instanceof HubApiError) {
    const hubCode = errorCodeOf(error.url);
    const status = error.statusCode;
    if (hubCode === "GatedRepo" && !hasToken) {
      return new AuthError("HUB_GATED_TOKEN_REQUIRED", `${where} is a gated model: downloading it needs a Hugging Face token, and none is set`, {
        fix: `accept the licence on ${page}, then ${TOKEN_FIX}`,
        details: { ...details, status },
      });
    }
    if (hubCode === "GatedRepo" || status === 403) {
      return new AuthError("HUB_ACCESS_DENIED", `the Hub refused access to ${where} with your HF_TOKEN (HTTP ${status}${hubCode ? `, ${hubCode}` : ""})`, {
        fix: `accept the licence on ${page} with the account that owns the token (gated models may need approval), or use a token with read access`,
        details: { ...details, status },
      });
    }
    if (hubCode === "RevisionNotFound") {
      return new NotFoundError("HUB_REVISION_NOT_FOUND", `${repo} has no revision ${JSON.stringify(revision)} (a branch, tag or commit)`, {
        fix: `check the revision on ${page}/tree/main, or drop @${revision} to use main`,
        details: { ...details, status },
      });
    }
    if (status === 401 && hasToken && hubCode !== "RepoNotFound") {
      return new AuthError("HUB_TOKEN_REFUSED", `the Hub rejected HF_TOKEN while fetching ${where} (HTTP 401: invalid or expired token)`, {
        fix: `check the token at https://huggingface.co/settings/tokens, or unset HF_TOKEN for public models`,
        details: { ...details, status },
      });
    }
    if (status === 401 || status === 404) {
      return new NotFoundError("HUB_MODEL_NOT_FOUND", `model ${repo} was not found on ${hubUrl}${hasToken ? "" : " (or it is private and no HF_TOKEN is set)"}, and there is no folder ${target.localPath}`, {
        fix: `check the name (org/name, as on ${hubUrl}/models) or the folder's path${hasToken ? "" : `; for a private model, ${TOKEN_FIX}`}`,
        details: { ...details, status },
      });
    }
    return new ProviderError("HUB_REQUEST_FAILED", `the Hub answered HTTP ${status} for ${where}: ${error.message}`, {
      fix: "retry later; if it persists, check HF_ENDPOINT or set HF_HUB_OFFLINE=1 to use a cached copy",
      details: { ...details, status },
    });
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new ProviderError("HUB_UNREACHABLE", `could not reach the Hub at ${hubUrl} to fetch ${where} (${cause?.code ?? cause?.message ?? error.message})`, {
      fix: "check the network (or HF_ENDPOINT); to use models already in the cache without the network, set HF_HUB_OFFLINE=1",
      details,
    });
  }
  return error;
}
