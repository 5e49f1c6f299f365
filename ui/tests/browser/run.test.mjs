import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const badge = (page, id) => page.getByTestId(`run-badge-${id}`);

/** The sample flow is on the canvas and its connection exists, so it validates. */
async function sampleReady(page, { connection = true } = {}) {
  await node(page, "chat").waitFor();
  if (connection)
    await page.evaluate(() =>
      window.__TAURI_INTERNALS__.invoke("create_connection", {
        input: { name: "azure-ai", type: "azure_ai", config: { endpoint: "https://res.services.ai.azure.com/models" }, secrets: { api_key: "k" } },
      }),
    );
}

async function startRun(page, question = "What is Weft?") {
  await page.getByTestId("test-run").click();
  await page.getByTestId("run-inputs").waitFor();
  await page.getByTestId("run-input-question").fill(question);
  await page.getByTestId("run-inputs-submit").click();
}

async function phaseOf(page, id, phase) {
  await page.locator(`[data-testid="run-badge-${id}"][data-phase="${phase}"]`).waitFor();
}

test("a test run streams tokens into the node and the run panel, then shows outputs and totals", () =>
  withApp(
    async (page) => {
      await sampleReady(page);
      assert.equal(await page.getByTestId("test-run").isDisabled(), false);
      await page.getByTestId("test-run").click();
      await page.getByTestId("run-inputs").waitFor();
      // The input opens with the flow's default.
      assert.equal(await page.getByTestId("run-input-question").inputValue(), "What does a flow designer do?");
      await page.getByTestId("run-input-question").fill("What is Weft?");
      await page.getByTestId("run-inputs-submit").click();

      await phaseOf(page, "chat", "streaming");
      assert.equal(await page.getByTestId("test-run").isDisabled(), true, "no second run while one is going");
      const preview = page.getByTestId("run-preview-chat");
      const early = await preview.innerText();
      await page.waitForFunction((n) => (document.querySelector('[data-testid="run-preview-chat"]')?.textContent ?? "").length > n + 10, early.length);
      // The run panel follows the node that is writing.
      const panelText = await page.getByTestId("run-node-output").innerText();
      assert.match(panelText, /^You asked:/);
      assert.equal(await page.getByTestId("run-status").innerText(), "Running");
      await screenshot(page, "run-streaming.png");

      await phaseOf(page, "chat", "succeeded");
      assert.match(await badge(page, "chat").innerText(), /Done · \d+(\.\d+)? (ms|s) · \d+ tokens/);
      assert.match(await preview.innerText(), /repeat\.$/);
      assert.equal(await page.getByTestId("run-status").innerText(), "Succeeded");
      assert.match(await page.getByTestId("run-totals").innerText(), /\d+ tokens/);
      assert.match(await page.getByTestId("run-output-answer").innerText(), /^You asked: What is Weft\? A flow designer/);

      await page.getByTestId("run-node-chat").click();
      const inputs = await page.getByTestId("run-node-inputs").innerText();
      assert.match(inputs, /"question": "What is Weft\?"/, "the node's resolved inputs, as pretty JSON");
      assert.match(inputs, /"user_prompt": "\{\{ question \}\}"/);
      assert.equal(await page.getByTestId("test-run").isDisabled(), false);
      await screenshot(page, "run-finished.png");

      // The next run offers the last value again.
      await page.getByTestId("test-run").click();
      await page.getByTestId("run-inputs").waitFor();
      assert.equal(await page.getByTestId("run-input-question").inputValue(), "What is Weft?");
      await page.keyboard.press("Escape");
      await page.getByTestId("run-inputs").waitFor({ state: "hidden" });
      await page.waitForFunction(() => !document.querySelector('[data-testid="test-run"]').disabled, null, { timeout: 2000 });
    },
    { mock: { run: { tokenDelayMs: 40 } } },
  ));

test("a failing node shows its error on the node and in the run panel; a throttled one shows the retry", () =>
  withApp(
    async (page) => {
      await sampleReady(page);
      await startRun(page);
      await page.getByTestId("run-retry-chat").waitFor();
      assert.match(await page.getByTestId("run-retry-chat").innerText(), /throttling \(HTTP 429\); retrying in 1 s/);
      assert.match(await page.getByTestId("run-notices").innerText(), /chat\s+the service is throttling/);

      await phaseOf(page, "chat", "failed");
      assert.match(await page.getByTestId("run-error-chat").innerText(), /the deployment `gpt-4o-mini` does not exist/);
      assert.equal(await page.getByTestId("run-status").innerText(), "Failed");
      await page.getByTestId("run-node-chat").click();
      assert.match(await page.getByTestId("run-node-error").innerText(), /check the name in Azure AI Foundry/);
      await screenshot(page, "run-failed.png");
    },
    {
      mock: {
        run: {
          retryNode: "chat",
          failNode: "chat",
          failMessage: "the deployment `gpt-4o-mini` does not exist (HTTP 404); check the name in Azure AI Foundry",
        },
      },
    },
  ));

test("Cancel stops a long run and the nodes say so", () =>
  withApp(
    async (page) => {
      await sampleReady(page);
      await startRun(page);
      await phaseOf(page, "chat", "streaming");
      await page.getByTestId("cancel-run").click();
      await phaseOf(page, "chat", "cancelled");
      assert.equal(await page.getByTestId("run-status").innerText(), "Cancelled");
      const text = await page.getByTestId("run-preview-chat").innerText();
      assert.ok(!text.endsWith("repeat."), "the run stopped before the answer was complete");
      assert.equal(await page.getByTestId("cancel-run").count(), 0);
      assert.equal(await page.getByTestId("test-run").isDisabled(), false);
    },
    { mock: { run: { tokenDelayMs: 400 } } },
  ));

test("run history lists the runs, newest first, and reopens one", () =>
  withApp(
    async (page) => {
      await sampleReady(page);
      await startRun(page, "first question");
      await phaseOf(page, "chat", "succeeded");
      await page.evaluate(() => { window.__WEFT_MOCK__.run.failNode = "chat"; });
      await startRun(page, "second question");
      await phaseOf(page, "chat", "failed");

      await page.getByTestId("run-tab-history").click();
      const rows = page.getByTestId("history-item");
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2);
      assert.match(await rows.nth(0).innerText(), /failed\s+\(unsaved flow\)/i);
      assert.match(await rows.nth(1).innerText(), /succeeded\s+\(unsaved flow\)\s+\d/i);
      await screenshot(page, "run-history.png");

      await rows.nth(1).getByRole("button", { name: /^Open/ }).click();
      await page.getByTestId("run-stored").waitFor();
      assert.equal(await page.getByTestId("run-status").innerText(), "Succeeded");
      assert.match(await page.getByTestId("run-output-answer").innerText(), /You asked: first question/);
      await page.getByTestId("run-node-chat").click();
      assert.match(await page.getByTestId("run-node-inputs").innerText(), /"question": "first question"/);
      // The canvas keeps showing the latest run.
      assert.equal(await badge(page, "chat").getAttribute("data-phase"), "failed");

      await page.getByRole("button", { name: "Back to the current run" }).click();
      assert.equal(await page.getByTestId("run-status").innerText(), "Failed");
    },
    { mock: { run: { tokenDelayMs: 5 } } },
  ));

test("Run this node reruns one node on the last run's inputs without asking for them again", () =>
  withApp(
    async (page) => {
      await sampleReady(page);
      await startRun(page, "original");
      await phaseOf(page, "chat", "succeeded");
      await page.getByTestId("run-node-chat").click();
      await page.getByRole("button", { name: "Run this node" }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === "Running");
      await phaseOf(page, "chat", "succeeded");
      assert.equal(await page.getByTestId("run-inputs").isVisible(), false, "no inputs asked again");
      assert.match(await page.getByTestId("run-node-output").innerText(), /You asked: original/);
      // A single node's run leaves the flow's outputs unknown.
      assert.equal(await page.getByTestId("run-outputs").count(), 0);
    },
    { mock: { run: { tokenDelayMs: 30 } } },
  ));

test("validation errors are listed under Problems, and choosing one focuses its node", () =>
  withApp(async (page) => {
    await sampleReady(page, { connection: false });
    await page.getByTestId("test-run").click();
    const problem = page.getByTestId("problem-item").filter({ hasText: "unknown connection `azure-ai`" });
    await problem.waitFor();
    assert.equal(await page.getByTestId("run-tab-problems").getAttribute("aria-selected"), "true");
    assert.equal(await page.getByTestId("run-inputs").isVisible(), false, "an invalid flow does not ask for inputs");
    assert.match(await problem.innerText(), /chat · connection/);
    assert.equal(await page.locator('.react-flow__node.selected[data-id="chat"]').count(), 0);
    await problem.click();
    await page.locator('.react-flow__node.selected[data-id="chat"]').waitFor();
    await screenshot(page, "run-problems.png");
  }));

test("a secret input is masked in the inputs dialog and stored nowhere", () =>
  withApp(async (page) => {
    const SECRET = "sk-run-secret-5521";
    await sampleReady(page);
    // With no node selected, the property panel edits the flow itself.
    await page.getByTestId("add-input").click();
    const row = page.locator('[data-testid^="flow-input-"]').last();
    await row.getByRole("checkbox").check();

    await page.getByTestId("test-run").click();
    await page.getByTestId("run-inputs").waitFor();
    const name = (await row.getAttribute("data-testid")).slice("flow-input-".length);
    const field = page.getByTestId(`run-input-${name}`);
    assert.equal(await field.getAttribute("type"), "password");
    assert.equal(await page.getByTestId("run-input-question").getAttribute("type"), "text");
    await field.fill(SECRET);
    await screenshot(page, "run-inputs-secret.png");
    await page.getByTestId("run-inputs-submit").click();
    await phaseOf(page, "chat", "succeeded");

    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    assert.ok(!stored.includes(SECRET), "the secret is in localStorage");
    assert.match(stored, /What does a flow designer do\?/, "the plain input is remembered");
    assert.ok(!(await page.content()).includes(SECRET), "the secret is in the DOM");
    const [run] = await page.evaluate(() => window.__TAURI_INTERNALS__.invoke("list_runs", { limit: 1 }));
    assert.equal(run.inputs[name], "******");

    // Next time the secret field starts empty.
    await page.getByTestId("test-run").click();
    await page.getByTestId("run-inputs").waitFor();
    assert.equal(await page.getByTestId(`run-input-${name}`).inputValue(), "");
  }, { mock: { run: { tokenDelayMs: 5 } } }));

test("the run panel resizes from its divider, keeps its height, and collapses to its tabs", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    const panel = page.getByTestId("run-panel");
    await page.getByTestId("run-tab-history").click();
    await page.getByText("No runs yet").waitFor();
    const start = (await panel.boundingBox()).height;

    const divider = page.getByTestId("run-panel-resize");
    const box = await divider.boundingBox();
    await page.mouse.move(box.x + 200, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 200, box.y + box.height / 2 - 100, { steps: 5 });
    await page.mouse.up();
    const dragged = (await panel.boundingBox()).height;
    assert.ok(Math.abs(dragged - (start + 100)) <= 2, `dragged to ${dragged}, from ${start}`);

    await divider.focus();
    await page.keyboard.press("ArrowDown");
    assert.equal(Math.round((await panel.boundingBox()).height), Math.round(dragged - 20));

    await page.getByTestId("run-panel-toggle").click();
    assert.ok((await panel.boundingBox()).height < 40, "collapsed to its tab bar");
    await page.getByTestId("run-tab-run").click();
    assert.equal(Math.round((await panel.boundingBox()).height), Math.round(dragged - 20), "reopens at the chosen height");
  }));
