// Builds the UI into CAIRN_WEB_OUT (scripts/build passes build/web), with content-hashed
// names under assets/ that the server may cache for a year (src/server/web_assets.h).
// `npm run dev` serves it with the API proxied to a local `cairn server` on port 8007.
import { defineConfig } from "vite";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: process.env.CAIRN_WEB_OUT ?? "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    sourcemap: false,
    // One bundle for the first page is the point; the size check is in tests/web.
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { "/api2": { target: "https://127.0.0.1:8007", secure: false } },
  },
});
