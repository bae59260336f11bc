export { HttpApp } from "./app.js";
export type { Context, Handler, HttpAppOptions, Middleware } from "./app.js";
export { DEFAULT_BODY_LIMITS, exceedsJsonDepth, parseJson, parseJsonObject, readBody } from "./body.js";
export type { BodyLimits } from "./body.js";
export { PathRouter, decodeSegment } from "./router.js";
export type { Method, RouteMatch } from "./router.js";
export { isLoopbackHost } from "./host.js";
