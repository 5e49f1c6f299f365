import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs work both in Tauri's custom protocol and in a static preview server.
  base: "./",
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  // WebKitGTK on Debian 12 and Safari 15+ on macOS are the oldest engines Weft renders in.
  build: { target: "safari15", outDir: "dist", chunkSizeWarningLimit: 1024 },
  test: { include: ["src/**/*.test.{ts,tsx}", "bench/**/*.test.mjs"], environment: "node" },
});
