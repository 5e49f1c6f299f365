// The real Weft window: the built binary, its WebKitGTK webview, a real SQLite file in a fresh
// WEFT_HOME and the real Secret Service (gnome-keyring, unlocked by .ci/with-session.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { remote } from "webdriverio";

const APP_BIN = process.env.APP_BIN;
const WEFT_BIN = process.env.WEFT_BIN;
const DRIVER_PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const SHOT_DIR = process.env.E2E_SCREENSHOT_DIR ?? "target/e2e";
// run.sh exports these before starting tauri-driver, which hands its environment to the app.
const WEFT_HOME = process.env.WEFT_HOME;

let browser;
let launchedAt;

before(async () => {
  assert.ok(APP_BIN && existsSync(APP_BIN), `APP_BIN must name the built app, got ${APP_BIN}`);
  assert.ok(WEFT_HOME && existsSync(WEFT_HOME), "WEFT_HOME must name a fresh folder");
  launchedAt = performance.now();
  browser = await remote({
    hostname: "127.0.0.1",
    port: DRIVER_PORT,
    logLevel: "warn",
    capabilities: {
      "tauri:options": { application: APP_BIN },
      // WebKitWebDriver speaks classic WebDriver only; webdriverio 9 asks for BiDi by default.
      "wdio:enforceWebDriverClassic": true,
    },
  });
});

// What the user sees: the X display (Xvfb), not WebKitWebDriver's snapshot, which lags a frame
// behind for modal dialogs. Without a window manager the window fills the 1280x800 screen.
async function screenshot(name) {
  mkdirSync(SHOT_DIR, { recursive: true });
  await sleep(400); // let the last paint land
  execFileSync("import", ["-window", "root", join(SHOT_DIR, name)]);
}

after(async () => {
  await browser?.deleteSession();
});

test("the editor frame renders the React Flow canvas", async () => {
  const renderer = await browser.$('[data-testid="canvas"] .react-flow__renderer');
  await renderer.waitForExist({ timeout: 20_000 });
  const renderedMs = performance.now() - launchedAt;
  console.log(`# launch to canvas rendered: ${renderedMs.toFixed(0)} ms`);

  assert.equal(await browser.getTitle(), "Weft");
  assert.ok(await browser.$(".react-flow__minimap").isExisting(), "minimap");
  assert.ok(await browser.$(".react-flow__background").isExisting(), "dot grid");
  assert.ok(await browser.$(".react-flow__controls-fitview").isExisting(), "zoom to fit");
  const testRun = await browser.$('[data-testid="test-run"]');
  assert.equal(await testRun.isEnabled(), false, "Test run stays disabled until flows can run");
});

test("Diagnostics reports the SQLite schema and a real keychain round-trip", async () => {
  await browser.$('[data-testid="open-diagnostics"]').click();
  const dialog = await browser.$('[data-testid="diagnostics"]');
  await dialog.waitForDisplayed({ timeout: 10_000 });

  const status = await browser.$('[data-testid="diag-keychain-status"]');
  await browser.waitUntil(async () => !(await status.getText()).startsWith("Checking"), {
    timeout: 15_000,
    timeoutMsg: "the keychain probe never finished",
  });
  assert.match(await status.getText(), /^ok\b/, "keychain round-trip must succeed");
  assert.match(await browser.$('[data-testid="diag-keychain-backend"]').getText(), /Secret Service/);
  const schema = await browser.$('[data-testid="diag-schema-version"]').getText();
  assert.match(schema, /^v(\d+) of \1$/, "the database is migrated to the latest schema");

  const dbPath = await browser.$('[data-testid="diag-db-path"]').getText();
  assert.equal(dbPath, join(WEFT_HOME, "weft.sqlite3"));
  assert.ok(existsSync(dbPath), "the app created its SQLite file on first start");
  assert.equal(statSync(dbPath).mode & 0o777, 0o600, "the database is private to its owner");

  await screenshot("diagnostics.png");
  await browser.keys("Escape");
  await dialog.waitForDisplayed({ reverse: true, timeout: 5_000 });
  await screenshot("editor.png");
});

test("a connection created in the app is in the keychain-backed store the CLI reads", async () => {
  const secret = `sk-e2e-${process.pid}-c0ffee`;
  await browser.$('[data-testid="open-connections"]').click();
  await browser.$('[data-testid="connections-manager"]').waitForDisplayed({ timeout: 10_000 });
  await browser.$('[data-testid="new-connection-type"]').selectByAttribute("value", "azure_ai");
  await browser.$('[data-testid="new-connection"]').click();
  await browser.$('[data-testid="conn-name"]').setValue("azure-ai");
  // A stand-in for Azure on 127.0.0.1: the app's Rust client calls it with the key it reads
  // from the keychain.
  const calls = [];
  const fake = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      calls.push({ url: req.url, key: req.headers["api-key"], body: JSON.parse(body) });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ model: "gpt-4o-mini-2024-07-18", choices: [{ index: 0, message: { content: "OK" }, finish_reason: "stop" }] }));
    });
  });
  await new Promise((resolve) => fake.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${fake.address().port}/models`;
  await browser.$('[data-testid="conn-field-endpoint"]').setValue(`${endpoint}/`);
  await browser.$('[data-testid="conn-secret-api_key"]').setValue(secret);
  await browser.$('[data-testid="conn-save"]').click();
  await browser.$('[data-testid="conn-saved"]').waitForDisplayed({ timeout: 10_000 });
  assert.ok(await browser.$('[data-testid="conn-secret-replace-api_key"]').isDisplayed(), "the key shows as stored");
  assert.ok(!(await browser.getPageSource()).includes(secret), "the key came back to the webview");

  await browser.$('[data-testid="conn-test-deployment"]').setValue("gpt-4o-mini");
  await browser.$('[data-testid="conn-test"]').click();
  const result = await browser.$('[data-testid="conn-test-result"]');
  await result.waitForDisplayed({ timeout: 15_000 });
  assert.match(await result.getText(), /^Connected in \d+ ms · gpt-4o-mini-2024-07-18$/);
  fake.close();
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "/models/chat/completions?api-version=2024-05-01-preview");
  assert.equal(calls[0].key, secret, "the stored key travelled keychain → Rust → service");
  assert.equal(calls[0].body.model, "gpt-4o-mini");
  await screenshot("connections.png");

  assert.ok(WEFT_BIN && existsSync(WEFT_BIN), `WEFT_BIN must name the built CLI, got ${WEFT_BIN}`);
  const shown = JSON.parse(execFileSync(WEFT_BIN, ["connection", "show", "azure-ai", "--json"], { encoding: "utf8" }));
  assert.equal(shown.type, "azure_ai");
  assert.equal(shown.config.endpoint, endpoint);
  assert.deepEqual(shown.secrets, { api_key: "******" });

  for (const file of readdirSync(WEFT_HOME)) {
    const bytes = readFileSync(join(WEFT_HOME, file));
    assert.ok(!bytes.includes(secret), `the key reached ${file}`);
  }
  await browser.keys("Escape");
});
