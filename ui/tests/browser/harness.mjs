// Serves the e2e build (Tauri IPC mocked by src/ipc/mock.ts) and drives it in Debian's Chromium.
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { preview } from "vite";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const SHOTS = new URL("../../test-results/", import.meta.url).pathname;

/** Runs `body(page)` against a fresh app; `mock` sets window.__WEFT_MOCK__ before load. */
export async function withApp(body, { mock = {} } = {}) {
  // The in-process server: a spawned `vite preview` outlives kill() and hangs the runner.
  const server = await preview({
    root: new URL("../..", import.meta.url).pathname,
    logLevel: "warn",
    build: { outDir: "dist-e2e" },
    preview: { port: 0, host: "127.0.0.1", strictPort: false },
  });
  const profile = mkdtempSync(join(tmpdir(), "weft-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (err) => errors.push(err));
    await page.addInitScript((options) => { window.__WEFT_MOCK__ = options; }, mock);
    await page.goto(server.resolvedUrls.local[0]);
    await body(page);
    if (errors.length) throw new Error(`the page threw: ${errors.map(String).join("; ")}`);
  } finally {
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name) });
}
