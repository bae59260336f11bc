/** The ui stage's public surface: other stages and the shells import from here, never from its files. */
export { startUiServer } from "./server.js";
export type { UiServer, UiServerOptions } from "./server.js";
export { ensureAssets } from "./static-files.js";
