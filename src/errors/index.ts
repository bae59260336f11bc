export * from "./tunekit-error.js";
export * from "./boundary.js";
