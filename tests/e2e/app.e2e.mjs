// The real Weft window: the built binary, its WebKitGTK webview, a real SQLite file in a fresh
// WEFT_HOME and the real Secret Service (gnome-keyring, unlocked by .ci/with-session.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { remote } from "webdriverio";

import { VIOLENCE_TRIGGER, startFakeContentSafety, startFakeEndpoint } from "./fake-endpoint.mjs";

const APP_BIN = process.env.APP_BIN;
const WEFT_BIN = process.env.WEFT_BIN;
const DRIVER_PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const SHOT_DIR = process.env.E2E_SCREENSHOT_DIR ?? "target/e2e";
// run.sh exports these before starting tauri-driver, which hands its environment to the app.
const WEFT_HOME = process.env.WEFT_HOME;

let browser;
let launchedAt;
// A stand-in for an Azure resource on 127.0.0.1 (v1 routes; the retired /models ones answer 410),
// shared by the tests: the app's Rust client calls it with the key it reads from the keychain.
let fake;

before(async () => {
  fake = await startFakeEndpoint({ words: ["Weft ", "designs ", "flows."] });
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
  await fake?.close();
});

test("the editor frame renders the React Flow canvas", async () => {
  const renderer = await browser.$('[data-testid="canvas"] .react-flow__renderer');
  await renderer.waitForExist({ timeout: 20_000 });
  const renderedMs = performance.now() - launchedAt;
  console.log(`# launch to canvas rendered: ${renderedMs.toFixed(0)} ms`);

  assert.equal(await browser.getTitle(), "Chat — Weft");
  assert.ok(await browser.$(".react-flow__minimap").isExisting(), "minimap");
  assert.ok(await browser.$(".react-flow__background").isExisting(), "dot grid");
  assert.ok(await browser.$(".react-flow__controls-fitview").isExisting(), "zoom to fit");
  // A first start opens the sample flow, ready to run.
  await browser.$('.react-flow__node[data-id="chat"]').waitForExist({ timeout: 10_000 });
  assert.equal(await browser.$('[data-testid="flow-title"]').getText(), "Chat");
  assert.equal(await browser.$('[data-testid="test-run"]').isEnabled(), true);
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
  const { endpoint, calls } = fake;
  await browser.$('[data-testid="conn-field-endpoint"]').setValue(`${endpoint}/`);
  // A new Foundry connection calls the OpenAI v1 API with a key unless the user picks otherwise.
  assert.equal(await browser.$('[data-testid="conn-choice-api-v1"]').isSelected(), true);
  assert.equal(await browser.$('[data-testid="conn-choice-auth_mode-key"]').isSelected(), true);
  await browser.$('[data-testid="conn-secret-api_key"]').setValue(secret);
  await browser.$('[data-testid="conn-save"]').click();
  await browser.$('[data-testid="conn-saved"]').waitForDisplayed({ timeout: 10_000 });
  assert.ok(await browser.$('[data-testid="conn-secret-replace-api_key"]').isDisplayed(), "the key shows as stored");
  assert.ok(!(await browser.getPageSource()).includes(secret), "the key came back to the webview");

  await browser.$('[data-testid="conn-test-deployment"]').setValue("gpt-4o-mini");
  await browser.$('[data-testid="conn-test"]').click();
  const result = await browser.$('[data-testid="conn-test-result"]');
  await result.waitForDisplayed({ timeout: 15_000 });
  assert.match(await result.getText(), /^Connected in \d+ ms through the OpenAI v1 API · gpt-4o-mini-2024-07-18$/);
  assert.equal(calls.length, 1);
  // The resource URL as pasted reaches the OpenAI v1 API: no api-version, the deployment in `model`.
  assert.equal(calls[0].method, "POST");
  assert.equal(calls[0].url, "/openai/v1/chat/completions");
  assert.equal(calls[0].apiKey, secret, "the stored key travelled keychain → Rust → service");
  assert.equal(calls[0].authorization, undefined, "a key connection sends no bearer token");
  assert.equal(calls[0].body.model, "gpt-4o-mini");
  await screenshot("connections.png");

  assert.ok(WEFT_BIN && existsSync(WEFT_BIN), `WEFT_BIN must name the built CLI, got ${WEFT_BIN}`);
  const shown = JSON.parse(execFileSync(WEFT_BIN, ["connection", "show", "azure-ai", "--json"], { encoding: "utf8" }));
  assert.equal(shown.type, "azure_ai");
  assert.equal(shown.config.endpoint, endpoint);
  assert.equal(shown.config.api, "v1");
  assert.equal(shown.config.auth_mode, "key");
  assert.deepEqual(shown.secrets, { api_key: "******" });

  for (const file of readdirSync(WEFT_HOME)) {
    const bytes = readFileSync(join(WEFT_HOME, file));
    assert.ok(!bytes.includes(secret), `the key reached ${file}`);
  }
  await browser.keys("Escape");
});

/** A palette drag onto the canvas through the app's real HTML5 drag-and-drop handlers (WebDriver
 * pointer actions do not start native drags in WebKitGTK, so the events are dispatched). */
async function dragFromPalette(kind, x, y) {
  await browser.execute(
    (kind, x, y) => {
      const transfer = new DataTransfer();
      const item = document.querySelector(`[data-testid="palette-item-${kind}"]`);
      const pane = document.querySelector(".react-flow__pane");
      item.dispatchEvent(new DragEvent("dragstart", { bubbles: true, cancelable: true, dataTransfer: transfer }));
      for (const type of ["dragenter", "dragover", "drop"]) {
        pane.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, clientX: x, clientY: y, dataTransfer: transfer }));
      }
      item.dispatchEvent(new DragEvent("dragend", { bubbles: true, dataTransfer: transfer }));
    },
    kind,
    x,
    y,
  );
  // React Flow shows a node once it has measured it and its handles; wires need those bounds.
  await browser.$(`.react-flow__node[data-id="${kind === "chat_completion" ? "chat" : kind}"]`).waitForDisplayed({ timeout: 5_000 });
  await sleep(300);
}

/** Typing over a field's text, as a user does (WebKitWebDriver's element clear does not reach
 * React's uncontrolled inputs). */
async function replaceText(field, text) {
  await field.click();
  await browser.keys(["Control", "a"]);
  // One key at a time: WebKitWebDriver drops some characters of a batch (spaces, braces).
  for (const key of text) await browser.keys(key);
}

/** A wire drawn with the mouse from one handle to another. */
async function wire(from, fromHandle, to, toHandle) {
  const source = await browser.$(`.react-flow__node[data-id="${from}"] .react-flow__handle[data-handleid="${fromHandle}"]`);
  const target = await browser.$(`.react-flow__node[data-id="${to}"] .react-flow__handle[data-handleid="${toHandle}"]`);
  await browser
    .action("pointer", { parameters: { pointerType: "mouse" } })
    .move({ origin: source })
    .down()
    .move({ origin: target, duration: 200 })
    .move({ origin: target, x: 1, y: 1, duration: 50 })
    .up()
    .perform();
}

test("build the chat flow by drag and drop, test-run it, and read the streamed answer", () =>
  onFailureScreenshot("test-run-failure.png", buildAndRun));

/** Runs `body`; if it throws, the screen is saved first so CI logs show what the user saw. */
async function onFailureScreenshot(name, body) {
  try {
    await body();
  } catch (err) {
    await screenshot(name).catch(() => undefined);
    throw err;
  }
}

async function buildAndRun() {
  const before = fake.calls.length;
  await browser.$('[data-testid="file-new"]').click();
  // A new flow has only its Inputs and Outputs nodes.
  await browser.waitUntil(async () => (await browser.$$(".react-flow__node")).length === 2, {
    timeout: 5_000,
    timeoutMsg: "New did not start an empty flow",
  });

  // The flow's input, from the flow panel.
  await browser.$('[data-testid="add-input"]').click();
  const name = await browser.$('[data-testid="flow-input-input"] [aria-label="Input name"]');
  await replaceText(name, "question");
  await browser.keys("Tab");
  await browser.$('[data-testid="flow-input-question"]').waitForExist({ timeout: 5_000 });

  // The chat node goes below, between the two.
  const inputsBox = await browser.$('.react-flow__node[data-id="inputs"]').getLocation();
  const outputsBox = await browser.$('.react-flow__node[data-id="outputs"]').getLocation();
  await dragFromPalette(
    "chat_completion",
    Math.round((inputsBox.x + outputsBox.x) / 2),
    Math.round(Math.max(inputsBox.y, outputsBox.y) + 160),
  );
  await wire("chat", "output", "outputs", "__new_output");
  await wire("inputs", "question", "chat", "variables");
  await browser.waitUntil(async () => (await browser.$$(".react-flow__edge")).length === 2, {
    timeout: 5_000,
    timeoutMsg: "the two wires were not drawn",
  });

  await browser.$('.react-flow__node[data-id="chat"]').click();
  await browser.$('[data-testid="prop-chat-connection"]').selectByAttribute("value", "azure-ai");
  await replaceText(await browser.$('[data-testid="prop-chat-deployment"]'), "gpt-4o-mini");
  // The prompt is a preview until clicked; the click opens the CodeMirror editor in its place.
  await browser.$('[data-testid="code-prop-chat-user_prompt"]').click();
  await browser.$('[data-testid="code-prop-chat-user_prompt"] .cm-content').waitForExist({ timeout: 5_000 });
  for (const key of "{{ question }}") await browser.keys(key);
  assert.equal(await browser.$('[data-testid="code-prop-chat-user_prompt"] .cm-content').getText(), "{{ question }}");
  await browser.$('[data-testid="prop-chat-deployment"]').click();

  const testRun = await browser.$('[data-testid="test-run"]');
  await browser.waitUntil(() => testRun.isEnabled(), { timeout: 5_000 });
  await testRun.click();
  const inputs = await browser.$('[data-testid="run-inputs"]');
  await inputs.waitForDisplayed({ timeout: 10_000 });
  await replaceText(await browser.$('[data-testid="run-inputs"] input'), "What is Weft?");
  await browser.$('[data-testid="run-inputs-submit"]').click();

  const outputs = await browser.$('[data-testid="run-outputs"]');
  await browser.waitUntil(async () => (await outputs.getText()).includes("Weft designs flows."), {
    timeout: 20_000,
    timeoutMsg: "the answer never appeared in the run panel",
  });
  assert.match(await browser.$('[data-testid="run-status"]').getText(), /succeeded/i);
  assert.match(await browser.$('[data-testid="run-badge-chat"]').getText(), /\d+ ms/);
  // The whole flow in view above the run panel, with the answer on the chat node, for the README.
  await browser.$(".react-flow__controls-fitview").click();
  await browser.pause(400);
  await screenshot("test-run.png");

  const calls = fake.calls.slice(before);
  assert.equal(calls.length, 1, "one streamed chat completion");
  assert.equal(calls[0].url, "/openai/v1/chat/completions");
  assert.equal(calls[0].body.stream, true);
  assert.equal(calls[0].body.model, "gpt-4o-mini");
  assert.equal(calls[0].body.messages.at(-1).content, "What is Weft?");
  assert.ok(calls[0].apiKey?.startsWith("sk-e2e-"), "the key came from the keychain");
  assert.equal(calls[0].authorization, undefined);
  assert.ok(!(await browser.getPageSource()).includes(calls[0].apiKey), "the key reached the webview");
}

/** The dynamic-connection example with its key as a plain (not secret) input, passed on through a
 * variable: the worst case, which only Rust's analysis of the flow recognises as a key. */
function dynamicFlow() {
  return {
    schema: 1,
    title: "Dynamic connection",
    inputs: {
      endpoint: { type: "string" },
      api_key: { type: "string" },
      question: { type: "string" },
    },
    outputs: { answer: { value: "${chat.output}" } },
    nodes: [
      { id: "inputs", type: "inputs", position: { x: 0, y: 160 } },
      { id: "declare", type: "declare_variable", position: { x: 280, y: 40 }, properties: { name: "connection", value_type: "object" } },
      { id: "key", type: "declare_variable", position: { x: 280, y: 280 }, properties: { name: "key", value_type: "string", initial: "${inputs.api_key}" } },
      {
        id: "connect",
        type: "create_azure_ai_connection",
        position: { x: 560, y: 40 },
        properties: { endpoint: "${inputs.endpoint}", api_key: "${vars.key}", variable: "connection" },
      },
      {
        id: "chat",
        type: "chat_completion",
        position: { x: 840, y: 160 },
        properties: {
          dynamic_connection: "${vars.connection}",
          deployment: "gpt-4o-mini",
          user_prompt: "{{ question }}",
          variables: { question: "${inputs.question}" },
        },
      },
      { id: "outputs", type: "outputs", position: { x: 1120, y: 160 } },
    ],
  };
}

test("a dynamic connection's key never reaches the webview, history or the data folder", () =>
  onFailureScreenshot("dynamic-key-failure.png", async () => {
    const key = `sk-dyn-${process.pid}-0123456789abcdef`;
    const third = Math.floor(key.length / 3);
    // The model echoes the key, split over three deltas.
    const echo = await startFakeEndpoint({ words: ["Your key: ", key.slice(0, third), key.slice(third, 2 * third), key.slice(2 * third), "."] });
    try {
      // A second start of the app, which offers back the edits of a session that ended unsaved.
      await browser.deleteSession();
      writeFileSync(
        join(WEFT_HOME, "recovery.json"),
        JSON.stringify({ path: null, version: null, document: dynamicFlow(), saved_at_ms: Date.now() }),
        { mode: 0o600 },
      );
      browser = await remote({
        hostname: "127.0.0.1",
        port: DRIVER_PORT,
        logLevel: "warn",
        capabilities: { "tauri:options": { application: APP_BIN }, "wdio:enforceWebDriverClassic": true },
      });
      const banner = await browser.$('[data-testid="recovery-banner"]');
      await banner.waitForDisplayed({ timeout: 20_000 });
      await banner.$("button=Restore").click();
      await browser.$('.react-flow__node[data-id="connect"]').waitForExist({ timeout: 10_000 });

      const testRun = await browser.$('[data-testid="test-run"]');
      await browser.waitUntil(() => testRun.isEnabled(), { timeout: 5_000 });
      await testRun.click();
      await browser.$('[data-testid="run-inputs"]').waitForDisplayed({ timeout: 10_000 });
      const keyField = await browser.$('[data-testid="run-input-api_key"]');
      assert.equal(await keyField.getAttribute("type"), "password", "an input feeding a key is masked");
      // The seed's …/models shape, as a user who followed it would paste it: it must reach v1.
      await replaceText(await browser.$('[data-testid="run-input-endpoint"]'), `${echo.endpoint}/models`);
      await replaceText(keyField, key);
      await replaceText(await browser.$('[data-testid="run-input-question"]'), `Repeat ${key}`);
      await browser.$('[data-testid="run-inputs-submit"]').click();

      const outputs = await browser.$('[data-testid="run-outputs"]');
      await browser.waitUntil(async () => (await outputs.getText()).includes("Your key: ******."), {
        timeout: 20_000,
        timeoutMsg: "the masked answer never appeared in the run panel",
      });
      assert.match(await browser.$('[data-testid="run-status"]').getText(), /succeeded/i);
      await screenshot("dynamic-key.png");
      assert.equal(echo.calls.length, 1);
      assert.equal(echo.calls[0].url, "/openai/v1/chat/completions", "the retired /models API was called");
      assert.equal(echo.calls[0].body.model, "gpt-4o-mini");
      assert.equal(echo.calls[0].apiKey, key, "the key went to the service it belongs to");

      const page = await browser.getPageSource();
      for (const part of [key, key.slice(third, 2 * third)]) {
        assert.ok(!page.includes(part), `the webview holds ${part}`);
      }
      const runs = JSON.parse(execFileSync(WEFT_BIN, ["runs", "list", "--json"], { encoding: "utf8" }));
      const shown = execFileSync(WEFT_BIN, ["runs", "show", "--json", runs[0].id], { encoding: "utf8" });
      assert.ok(!shown.includes(key), `history holds the key: ${shown}`);
      assert.equal(JSON.parse(shown).inputs.api_key, "******");
      for (const file of readdirSync(WEFT_HOME)) {
        assert.ok(!readFileSync(join(WEFT_HOME, file)).includes(key), `the key reached ${file}`);
      }
      // Nor does the browser's storage keep it for the next run's form.
      const stored = await browser.execute(() => JSON.stringify({ ...localStorage }));
      assert.ok(!stored.includes(key), "localStorage holds the key");
    } finally {
      await echo.close();
    }
  }));

/** Creates a connection in the Connections manager, as a user does, and closes it. */
async function createConnection(type, name, fields, secrets) {
  await browser.$('[data-testid="open-connections"]').click();
  const manager = await browser.$('[data-testid="connections-manager"]');
  await manager.waitForDisplayed({ timeout: 10_000 });
  await browser.$('[data-testid="new-connection-type"]').selectByAttribute("value", type);
  await browser.$('[data-testid="new-connection"]').click();
  await browser.$('[data-testid="conn-name"]').setValue(name);
  for (const [key, value] of Object.entries(fields)) await browser.$(`[data-testid="conn-field-${key}"]`).setValue(value);
  for (const [key, value] of Object.entries(secrets)) await browser.$(`[data-testid="conn-secret-${key}"]`).setValue(value);
  await browser.$('[data-testid="conn-save"]').click();
  await browser.$('[data-testid="conn-saved"]').waitForDisplayed({ timeout: 10_000 });
  await browser.keys("Escape");
  await manager.waitForDisplayed({ reverse: true, timeout: 5_000 });
}

/** Opens a flow file as a user reopens one, from the File menu's Recent list: the Open button's
 * native GTK dialog is out of WebDriver's reach, and Recent goes through the same open_flow
 * command. The list lives in the webview's localStorage, read when the page loads. */
async function openFromRecent(path) {
  // No offer to restore the last test's unsaved edits: this start is about the opened file.
  rmSync(join(WEFT_HOME, "recovery.json"), { force: true });
  await browser.execute((path) => localStorage.setItem("weft.recentFlows", JSON.stringify([path])), path);
  await browser.refresh();
  // Wait for the start to finish (the sample flow, or the offer of edits an autosave wrote since
  // the file was removed), else the sample could load over the opened file.
  const banner = await browser.$('[data-testid="recovery-banner"]');
  const title = await browser.$('[data-testid="flow-title"]');
  await browser.waitUntil(async () => (await banner.isExisting()) || (await title.getText()) === "Chat", {
    timeout: 20_000,
    timeoutMsg: "the app did not start again after the reload",
  });
  if (await banner.isExisting()) await banner.$("button=Discard").click();
  const recent = await browser.$('[data-testid="file-recent"]');
  await recent.selectByAttribute("value", path);
}

/** Test-runs the open flow with `question` and waits for the run to end; returns the status the
 * run panel shows. `safety` is the fake every run calls first: its record growing tells this run
 * from the last one, whose status the panel still shows. */
async function runWith(question, safety) {
  const before = safety.calls.length;
  const testRun = await browser.$('[data-testid="test-run"]');
  await browser.waitUntil(() => testRun.isEnabled(), { timeout: 5_000 });
  await testRun.click();
  await browser.$('[data-testid="run-inputs"]').waitForDisplayed({ timeout: 10_000 });
  await replaceText(await browser.$('[data-testid="run-input-question"]'), question);
  await browser.$('[data-testid="run-inputs-submit"]').click();
  await browser.waitUntil(() => safety.calls.length > before, { timeout: 20_000, timeoutMsg: "the run never called Content Safety" });
  const status = await browser.$('[data-testid="run-status"]');
  await browser.waitUntil(async () => /succeeded|failed|cancelled/i.test(await status.getText()), {
    timeout: 30_000,
    timeoutMsg: "the run never ended",
  });
  return status.getText();
}

/** The moderated-chat flow's outputs as the run panel shows them, name → text. */
async function moderatedOutputs() {
  const shown = {};
  for (const name of ["answer", "refusal", "verdict"]) shown[name] = await browser.$(`[data-testid="run-output-${name}"]`).getText();
  return shown;
}

const MODERATED_CHAT = new URL("../../examples/moderated-chat.weft.yaml", import.meta.url);
const REFUSAL = "Sorry, I can't help with that request. Please rephrase it, or ask something else.";

test("moderated-chat: a benign question is answered, a violent one refused before the model is called, a wrong key stops the run", () =>
  onFailureScreenshot("moderated-chat-failure.png", async () => {
    const key = `cs-e2e-${process.pid}-5afe7e`;
    // A Content Safety resource that takes only this key; the model resource is the shared
    // `fake`, which the "azure-ai" connection of the connection test points at.
    const safety = await startFakeContentSafety({ key });
    // A copy, so nothing the app does to an open file can touch the repository's example.
    const folder = mkdtempSync(join(tmpdir(), "weft-e2e-flows-"));
    const path = join(folder, "moderated-chat.weft.yaml");
    copyFileSync(MODERATED_CHAT, path);
    try {
      await openFromRecent(path);
      await browser.$('.react-flow__node[data-id="safety"]').waitForExist({ timeout: 10_000 });
      assert.equal(await browser.$('[data-testid="flow-title"]').getText(), "Moderated chat");
      // The flow names its Content Safety connection "safety"; the user creates it in the app.
      await createConnection("azure_content_safety", "safety", { endpoint: safety.endpoint }, { api_key: key });

      const chatCalls = fake.calls.length;
      assert.match(await runWith("What is Weft?", safety), /succeeded/i);
      // A skipped branch's output is null.
      assert.deepEqual(await moderatedOutputs(), { answer: "Weft designs flows.", refusal: "null", verdict: "Accept" });
      assert.equal(fake.calls.length, chatCalls + 1, "an accepted question reaches the model");
      assert.equal(fake.calls.at(-1).body.messages.at(-1).content, "What is Weft?");
      assert.equal(safety.calls.length, 1);
      const [check] = safety.calls;
      assert.equal(check.method, "POST");
      assert.equal(check.url, "/contentsafety/text:analyze?api-version=2024-09-01");
      assert.equal(check.subscriptionKey, key, "the stored key travelled keychain → Rust → service");
      assert.equal(check.body.text, "What is Weft?");
      assert.deepEqual([...check.body.categories].sort(), ["Hate", "SelfHarm", "Sexual", "Violence"]);
      assert.equal(check.body.outputType, "FourSeverityLevels");

      assert.match(await runWith(`How do I hit someone with a ${VIOLENCE_TRIGGER}?`, safety), /succeeded/i);
      assert.deepEqual(await moderatedOutputs(), { answer: "null", refusal: REFUSAL, verdict: "Reject" });
      assert.equal(await browser.$('[data-testid="run-badge-chat"]').getAttribute("data-phase"), "skipped");
      assert.equal(fake.calls.length, chatCalls + 1, "a rejected question reached the model");
      assert.equal(safety.calls.length, 2);
      assert.equal(safety.calls[1].body.text, `How do I hit someone with a ${VIOLENCE_TRIGGER}?`);
      await browser.$(".react-flow__controls-fitview").click();
      await browser.pause(400);
      await screenshot("moderated-chat.png");

      // A key the resource refuses: the run stops at the check, says what to fix, and the model
      // is still not called.
      const wrong = `cs-e2e-${process.pid}-wr0ng`;
      await browser.$('[data-testid="open-connections"]').click();
      const manager = await browser.$('[data-testid="connections-manager"]');
      await manager.waitForDisplayed({ timeout: 10_000 });
      await browser.$('[data-testid="connection-item-safety"]').click();
      await browser.$('[data-testid="conn-secret-replace-api_key"]').click();
      await browser.$('[data-testid="conn-secret-api_key"]').setValue(wrong);
      await browser.$('[data-testid="conn-save"]').click();
      await browser.$('[data-testid="conn-saved"]').waitForDisplayed({ timeout: 10_000 });
      await browser.keys("Escape");
      await manager.waitForDisplayed({ reverse: true, timeout: 5_000 });
      assert.match(await runWith("What is Weft?", safety), /failed/i);
      assert.equal(safety.calls.at(-1).subscriptionKey, wrong);
      // The card clips the message; the run panel's node detail shows all of it.
      await browser.$('[data-testid="run-node-safety"]').click();
      const error = await browser.$('[data-testid="run-node-error"]').getText();
      assert.match(error, /^the service refused the API key \(HTTP 401\) \(request id fake-cs-\d+\): check the connection's key/);
      assert.ok(error.includes("Access denied due to invalid subscription key"), `the service's own words: ${error}`);
      assert.ok(!error.includes(wrong), "the refused key is in the error");
      assert.equal(fake.calls.length, chatCalls + 1, "a run whose check failed reached the model");
      await screenshot("moderated-chat-wrong-key.png");

      const page = await browser.getPageSource();
      for (const secret of [key, wrong]) assert.ok(!page.includes(secret), "a Content Safety key reached the webview");
      for (const file of readdirSync(WEFT_HOME)) {
        const bytes = readFileSync(join(WEFT_HOME, file));
        for (const secret of [key, wrong]) assert.ok(!bytes.includes(secret), `a Content Safety key reached ${file}`);
      }
    } finally {
      await safety.close();
      rmSync(folder, { recursive: true, force: true });
    }
  }));

/** The sample's chat flow, its question as the user prompt, over the connection named. */
function chatFlow(title, connection) {
  return [
    "schema: 1",
    `title: ${title}`,
    "inputs:",
    "  question: { type: string }",
    "outputs:",
    "  answer: { value: '${chat.output}' }",
    "nodes:",
    "  - { id: inputs, type: inputs, position: { x: 0, y: 120 } }",
    "  - id: chat",
    "    type: chat_completion",
    "    position: { x: 320, y: 120 }",
    "    properties:",
    `      connection: ${connection}`,
    "      deployment: gpt-4o-mini",
    "      user_prompt: '{{ question }}'",
    "      variables: { question: '${inputs.question}' }",
    "  - { id: outputs, type: outputs, position: { x: 640, y: 120 } }",
    "",
  ].join("\n");
}

const BATCH_ROWS = 20;

test("a 20-row batch from the Batch panel: every row calls the model once, is stored, opens node by node, and is in History and the CLI", () =>
  onFailureScreenshot("batch-failure.png", async () => {
    const folder = mkdtempSync(join(tmpdir(), "weft-e2e-batch-"));
    const flowPath = join(folder, "ask.weft.yaml");
    const dataPath = join(folder, "questions.jsonl");
    // The chat flow of the sample, over the "azure-ai" connection the connection test saved.
    writeFileSync(flowPath, chatFlow("Ask", "azure-ai"));
    writeFileSync(dataPath, Array.from({ length: BATCH_ROWS }, (_, i) => `${JSON.stringify({ Question: `Question ${i + 1}?` })}\n`).join(""));
    try {
      await openFromRecent(flowPath);
      await browser.$('[data-testid="flow-title"]').waitUntil(async function () {
        return (await this.getText()) === "Ask";
      }, { timeout: 10_000 });
      const before = fake.calls.length;

      await browser.$('[data-testid="open-batch"]').click();
      await browser.$('[data-testid="batch-panel"]').waitForDisplayed({ timeout: 10_000 });
      // The native file dialog is out of WebDriver's reach; the path field reads the same file.
      await replaceText(await browser.$('[data-testid="batch-data-path"]'), dataPath);
      await browser.keys("Enter");
      await browser.$('[data-testid="batch-preview"]').waitForDisplayed({ timeout: 10_000 });
      // Mapped by name, ignoring case, by Rust's suggestion.
      assert.equal(await browser.$('[data-testid="batch-map-question"]').getValue(), "col:Question");
      const start = await browser.$('[data-testid="batch-start"]');
      await browser.waitUntil(() => start.isEnabled(), { timeout: 5_000, timeoutMsg: "Start stayed disabled" });
      await start.click();

      const status = await browser.$('[data-testid="batch-status"]');
      await browser.waitUntil(async () => /succeeded|failed|cancelled|stopped/i.test(await status.getText()), {
        timeout: 60_000,
        timeoutMsg: "the batch never ended",
      });
      assert.match(await status.getText(), /succeeded/i);
      assert.equal(await browser.$('[data-testid="batch-done"]').getText(), `${BATCH_ROWS} of ${BATCH_ROWS} rows`);
      const calls = fake.calls.slice(before);
      assert.equal(calls.length, BATCH_ROWS, "one model call per row");
      const asked = calls.map((c) => c.body.messages.at(-1).content).sort();
      assert.deepEqual(asked, Array.from({ length: BATCH_ROWS }, (_, i) => `Question ${i + 1}?`).sort());
      assert.match(await browser.$('[data-testid="batch-filter-succeeded"]').getText(), new RegExp(`Succeeded\\s+${BATCH_ROWS}`));

      // The grid's rows come from SQLite a page at a time; one opens node by node.
      await browser.$('[data-testid="batch-grid-row"][data-row="0"]').waitForExist({ timeout: 10_000 });
      await browser.$('[data-testid="batch-grid-row"][data-row="0"]').click();
      await browser.$('[data-testid="batch-row-detail"]').waitForDisplayed({ timeout: 10_000 });
      assert.deepEqual(JSON.parse(await browser.$('[data-testid="batch-row-inputs"]').getText()), { question: "Question 1?" });
      assert.deepEqual(JSON.parse(await browser.$('[data-testid="batch-row-outputs"]').getText()), { answer: "Weft designs flows." });
      await browser.$('[data-testid="batch-row-detail"] [data-testid="run-node-chat"]').waitForExist({ timeout: 5_000 });
      assert.match(await browser.$('[data-testid="batch-row-detail"] [data-testid="run-node-detail"]').getText(), /Done/);
      await screenshot("batch.png");

      // The CLI reads the same batch from the same database.
      const listed = JSON.parse(execFileSync(WEFT_BIN, ["batch", "list", "--json"], { encoding: "utf8" }));
      const mine = listed.find((b) => b.data_path === dataPath);
      assert.ok(mine, `the CLI lists the batch: ${JSON.stringify(listed)}`);
      assert.deepEqual(mine.counts, { succeeded: BATCH_ROWS, failed: 0, cancelled: 0 });
      assert.equal(mine.status, "succeeded");

      // And History lists it beside the test runs.
      await browser.$('[data-testid="batch-close"]').click();
      await browser.$('[data-testid="batch-panel"]').waitForDisplayed({ reverse: true, timeout: 5_000 });
      await browser.$('[data-testid="run-tab-history"]').click();
      const item = await browser.$(`[data-testid="batch-history-item"][data-batch-id="${mine.id}"]`);
      await item.waitForExist({ timeout: 10_000 });
      // WebKitWebDriver's getText leaves out this clipped (text-overflow) cell; its text is there.
      const cells = await browser.execute((el) => el.textContent, item);
      assert.match(cells, /ask\.weft\.yaml × questions\.jsonl/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }));

const EVAL_ROWS = 5;

test("an eval recorded by the CLI replays in the Evaluate panel with its resource gone: the same verdicts, no model call, no key in the cassette", () =>
  onFailureScreenshot("eval-replay-failure.png", async () => {
    const key = `sk-e2e-${process.pid}-ev4l`;
    // A resource of its own, so that closing it (offline) leaves the other tests' fake alone.
    const resource = await startFakeEndpoint({
      words: ["Weft ", "answers ", "offline."],
      deployments: { "gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06" },
    });
    const folder = mkdtempSync(join(tmpdir(), "weft-e2e-eval-"));
    const flowPath = join(folder, "ask.weft.yaml");
    const evalPath = join(folder, "ask.eval.yaml");
    const cassette = join(folder, "ask.eval.cassette.jsonl");
    writeFileSync(flowPath, chatFlow("Ask offline", "eval-ai"));
    // The last row expects a word the answer lacks: 4 of 5 pass in each variant.
    const expected = ["offline", "offline", "Weft", "answers", "online"];
    writeFileSync(join(folder, "questions.jsonl"), expected.map((word, i) => `${JSON.stringify({ q: `Question ${i + 1}?`, expected: word })}\n`).join(""));
    writeFileSync(
      evalPath,
      [
        "name: Ask offline",
        "flow: ask.weft.yaml",
        "data: questions.jsonl",
        "column_mapping: { question: '${data.q}' }",
        "variants:",
        "  - { name: mini, set: { chat.deployment: gpt-4o-mini } }",
        "  - { name: large, set: { chat.deployment: gpt-4o } }",
        "assert:",
        "  - { output: answer, type: icontains, value: '${data.expected}' }",
        "thresholds: { pass_rate: 0.8 }",
        "",
      ].join("\n"),
    );
    try {
      await createConnection("azure_ai", "eval-ai", { endpoint: resource.endpoint }, { api_key: key });
      // Recorded once by the CLI, live, on the same store and keychain as the app.
      // Not execFileSync: the resource answers from this process's event loop.
      const { stdout } = await promisify(execFile)(WEFT_BIN, ["eval", "run", evalPath, "--record", cassette, "--json"], { encoding: "utf8" });
      const recorded = JSON.parse(stdout);
      assert.equal(recorded.passed, true);
      assert.deepEqual(recorded.variants.map((v) => [v.variant, v.rows, v.passed]), [["mini", EVAL_ROWS, 4], ["large", EVAL_ROWS, 4]]);
      assert.deepEqual(recorded.cassette, { mode: "record", replayed: 0, recorded: 2 * EVAL_ROWS, live: 0 });
      assert.equal(resource.calls.length, 2 * EVAL_ROWS);
      assert.deepEqual([...new Set(resource.calls.map((c) => c.body.model))].sort(), ["gpt-4o", "gpt-4o-mini"]);
      const tape = readFileSync(cassette, "utf8");
      assert.equal(tape.trim().split("\n").length, 2 * EVAL_ROWS, "one line per call");
      assert.ok(!tape.includes(key), "the key reached the cassette");
      assert.ok(!/api-key|authorization/i.test(tape), "an auth header reached the cassette");
      await resource.close(); // offline from here on

      await openFromRecent(flowPath);
      await browser.$('[data-testid="flow-title"]').waitUntil(async function () {
        return (await this.getText()) === "Ask offline";
      }, { timeout: 10_000 });
      await browser.$('[data-testid="open-eval"]').click();
      await browser.$('[data-testid="eval-panel"]').waitForDisplayed({ timeout: 10_000 });
      // The flow's own eval opens with the panel (the Open button's dialog is out of WebDriver's reach).
      // (textContent: WebKitWebDriver's getText leaves out this clipped cell's text.)
      const shownPath = await browser.$('[data-testid="eval-path"]');
      await browser.waitUntil(async () => (await browser.execute((el) => el.textContent, shownPath)) === "ask.eval.yaml", {
        timeout: 10_000,
        timeoutMsg: "the flow's eval did not open",
      });
      await browser.$('[data-testid="eval-cassette"]').selectByAttribute("value", "replay");
      const run = await browser.$('[data-testid="eval-run"]');
      await browser.waitUntil(() => run.isEnabled(), { timeout: 5_000, timeoutMsg: "Run stayed disabled" });
      await run.click();
      const status = await browser.$('[data-testid="eval-status"]');
      await status.waitForExist({ timeout: 60_000 });
      await browser.waitUntil(async () => !(await browser.$('[data-testid="eval-cancel"]').isExisting()), { timeout: 60_000, timeoutMsg: "the eval never ended" });
      assert.equal(await status.getText(), "Passed");
      assert.equal(await browser.$('[data-testid="eval-cassette-use"]').getText(), `Replay: ${2 * EVAL_ROWS} replayed · 0 recorded · 0 live`);
      const rates = await browser.$$('[data-testid="eval-pass-rate-cell"]').map((cell) => cell.getText());
      assert.deepEqual(rates, ["80%", "80%"]);
      assert.equal(resource.calls.length, 2 * EVAL_ROWS, "a replayed eval called the model");
      // The grid: the last row fails in both variants, the others pass.
      await browser.$('[data-testid="eval-grid-row"][data-row="4"]').waitForExist({ timeout: 10_000 });
      for (let row = 0; row < EVAL_ROWS; row += 1) {
        for (const variant of ["mini", "large"]) {
          const cell = await browser.$(`[data-testid="eval-grid-row"][data-row="${row}"] [data-testid="eval-cell"][data-variant="${variant}"]`);
          assert.equal(await cell.getAttribute("data-pass"), String(row !== 4), `row ${row}, ${variant}`);
        }
      }
      // The CLI's recording is in the app's history, to compare with; its verdicts are the same.
      await browser.$('[data-testid="eval-baseline"]').selectByAttribute("value", recorded.eval_id);
      await browser.pause(500); // the grid reads the baseline's verdicts
      assert.equal(await browser.$$('[data-testid="eval-cell"][data-mark]').length, 0, "a replayed verdict differs from the recorded one");
      await screenshot("eval-replay.png");

      const page = await browser.getPageSource();
      assert.ok(!page.includes(key), "the key reached the webview");
    } finally {
      await resource.close().catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
    }
  }));
