import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { DataError, NotFoundError } from "../errors/index.js";
import { EXPERIMENT_ACTIONS, type ExperimentAction } from "./experiments.js";
import { parseJsonObject, readBody, sendJson } from "./http-io.js";
import type { Gateway } from "./server.js";

export const FeedbackBodySchema = z
  .strictObject({
    request_id: z.string().min(1),
    score: z.number().min(-1e6).max(1e6).nullable().optional(),
    label: z.string().max(200).nullable().optional(),
    correction: z.string().nullable().optional(),
    comment: z.string().max(10_000).nullable().optional(),
  })
  .refine((b) => b.score != null || b.label != null || b.correction != null || b.comment != null, {
    message: "give at least one of score, label, correction, comment",
  });

/** POST /v1/feedback {request_id, score?, label?, correction?, comment?} — serve scope. */
export async function handleFeedback(gw: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  gw.auth.check(req.headers.authorization, "serve");
  const parsed = FeedbackBodySchema.safeParse(parseJsonObject(await readBody(req, gw.config.maxBodyBytes)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError("GATEWAY_BAD_FEEDBACK", `feedback ${issue.path.join(".") || "body"}: ${issue.message}`, {
      fix: "send {request_id: <x-tunekit-request-id>, score?: number, label?: string, correction?: string, comment?: string}",
    });
  }
  const b = parsed.data;
  await gw.pipeline.drain(); // the request may still be queued on its way to the database
  const request = await gw.store.getRequest(b.request_id);
  const fb = await gw.store.insertFeedback({ requestId: b.request_id, score: b.score, label: b.label, correction: b.correction, comment: b.comment }, Date.now());
  gw.metrics.observeFeedback(request?.variant ?? null, fb.score);
  sendJson(res, 201, { id: fb.id, request_id: fb.requestId, variant: request?.variant ?? null });
}

/**
 * Admin API (admin scope): GET /v1/admin/experiments; POST /v1/admin/experiments/NAME/{start|stop|promote|rollback}
 * with {variant} for promote; GET /v1/admin/requests/ID.
 */
export async function handleAdmin(gw: Gateway, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const auth = gw.auth.check(req.headers.authorization, "admin");
  const parts = path.split("/").filter(Boolean).slice(2); // after v1/admin
  if (req.method === "GET" && parts.length === 1 && parts[0] === "experiments") {
    sendJson(res, 200, { experiments: gw.experiments.list() });
    return;
  }
  if (req.method === "POST" && parts.length === 3 && parts[0] === "experiments" && EXPERIMENT_ACTIONS.includes(parts[2] as ExperimentAction)) {
    const raw = await readBody(req, gw.config.maxBodyBytes);
    const body = raw.length ? parseJsonObject(raw) : {};
    const state = gw.experiments.apply(decodeURIComponent(parts[1]), parts[2] as ExperimentAction, {
      variant: typeof body.variant === "string" ? body.variant : undefined,
      actor: auth.keyId ? `key:${auth.keyId}` : "api",
    });
    gw.refreshStates();
    gw.logger?.info({ experiment: state.name, action: parts[2], status: state.status, winner: state.winner }, "experiment changed");
    sendJson(res, 200, { experiment: state });
    return;
  }
  if (req.method === "GET" && parts.length === 2 && parts[0] === "requests") {
    await gw.pipeline.drain();
    const record = await gw.store.getRequest(decodeURIComponent(parts[1]));
    if (!record) throw new NotFoundError("GATEWAY_REQUEST_NOT_FOUND", `no logged request has id ${JSON.stringify(parts[1])}`, { fix: "use an x-tunekit-request-id value" });
    sendJson(res, 200, { request: record });
    return;
  }
  throw new NotFoundError("GATEWAY_ROUTE_NOT_FOUND", `no admin endpoint ${req.method} ${path}`, {
    fix: "use GET /v1/admin/experiments, POST /v1/admin/experiments/NAME/start|stop|promote|rollback, GET /v1/admin/requests/ID",
  });
}
