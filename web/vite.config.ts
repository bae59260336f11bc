import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Builds the dashboard into dist/web/, which `tunekit ui` serves (and the npm package ships).
const root = fileURLToPath(new URL(".", import.meta.url));
export default defineConfig({
  root,
  base: "./",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
    sourcemap: false,
  },
  server: { proxy: { "/api": "http://127.0.0.1:7860" } },
});
