export * from "./app.js";
export * from "./body.js";
export * from "./router.js";
export * from "./host.js";
