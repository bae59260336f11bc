import { z } from "zod";
import { NotFoundError, UsageError } from "../errors/index.js";
import type { Context, HttpApp } from "../http/index.js";
import { EXPERIMENT_ACTIONS, type ExperimentAction } from "./experiments.js";
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
export async function handleFeedback(gw: Gateway, c: Context): Promise<void> {
  gw.auth.check(c.header("authorization"), "serve");
  const parsed = FeedbackBodySchema.safeParse(await c.jsonObject());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError("GATEWAY_BAD_FEEDBACK", `feedback ${issue.path.join(".") || "body"}: ${issue.message}`, {
      fix: "send {request_id: <x-tunekit-request-id>, score?: number, label?: string, correction?: string, comment?: string}",
      details: { param: issue.path.join(".") || null },
    });
  }
  const b = parsed.data;
  await gw.pipeline.drain(); // the request may still be queued on its way to the database
  const request = await gw.store.getRequest(b.request_id);
  const fb = await gw.store.insertFeedback({ requestId: b.request_id, score: b.score, label: b.label, correction: b.correction, comment: b.comment }, Date.now());
  gw.metrics.observeFeedback(request?.variant ?? null, fb.score);
  c.send(201, { id: fb.id, request_id: fb.requestId, variant: request?.variant ?? null });
}

/**
 * Admin API (admin scope): GET /v1/admin/experiments; POST /v1/admin/experiments/NAME/{start|stop|promote|rollback}
 * with {variant} for promote; GET /v1/admin/requests/ID. Path parameters arrive decoded (malformed → 400).
 */
export function addAdminRoutes(app: HttpApp, gw: Gateway): void {
  app.get("/v1/admin/experiments", (c) => {
    gw.auth.check(c.header("authorization"), "admin");
    return { experiments: gw.experiments.list() };
  });
  app.post("/v1/admin/experiments/:name/:action", async (c) => {
    const auth = gw.auth.check(c.header("authorization"), "admin");
    const action = c.params.action;
    if (!EXPERIMENT_ACTIONS.includes(action as ExperimentAction)) {
      throw new NotFoundError("GATEWAY_ROUTE_NOT_FOUND", `no admin endpoint POST ${c.path}`, { fix: `use one of the actions ${EXPERIMENT_ACTIONS.join(", ")}` });
    }
    const body = await c.jsonObject({ emptyIsObject: true });
    const state = gw.experiments.apply(c.params.name, action as ExperimentAction, {
      variant: typeof body.variant === "string" ? body.variant : undefined,
      actor: auth.keyId ? `key:${auth.keyId}` : "api",
    });
    gw.refreshStates();
    gw.logger?.info({ experiment: state.name, action, status: state.status, winner: state.winner }, "experiment changed");
    return { experiment: state };
  });
  app.get("/v1/admin/requests/:id", async (c) => {
    gw.auth.check(c.header("authorization"), "admin");
    await gw.pipeline.drain();
    const record = await gw.store.getRequest(c.params.id);
    if (!record) throw new NotFoundError("GATEWAY_REQUEST_NOT_FOUND", `no logged request has id ${JSON.stringify(c.params.id)}`, { fix: "use an x-tunekit-request-id value" });
    return { request: record };
  });
}
