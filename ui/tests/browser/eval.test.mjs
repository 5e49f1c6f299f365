import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const FLOW = "/flows/ask.weft.yaml";
const DATA = "/flows/data/questions.csv";
const EVAL = "/flows/ask.eval.yaml";

const flow = {
  schema: 1,
  title: "Ask",
  inputs: { question: { type: "string", default: "What is Weft?" } },
  outputs: { answer: { value: "${chat.output}" } },
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 120 } },
    {
      id: "chat",
      type: "chat_completion",
      position: { x: 320, y: 120 },
      properties: { connection: "azure-ai", deployment: "gpt-4o-mini", user_prompt: "{{ q }}", variables: { q: "${inputs.question}" } },
    },
    { id: "outputs", type: "outputs", position: { x: 640, y: 120 } },
  ],
};

const mock = {
  flows: { files: { [FLOW]: flow } },
  batch: { files: { [DATA]: { columns: ["question", "expected"], rows: 12 } }, rowsPerWave: 3, waveMs: 40 },
};

/** The flow opened from its file, with its connection saved. */
async function openFlow(page) {
  await page.locator('.react-flow__node[data-id="chat"]').waitFor();
  await page.evaluate(() =>
    window.__TAURI_INTERNALS__.invoke("create_connection", {
      input: { name: "azure-ai", type: "azure_ai", config: { endpoint: "https://res.services.ai.azure.com/models" }, secrets: { api_key: "k" } },
    }),
  );
  await page.evaluate((path) => { window.__WEFT_MOCK__.flows.dialog = { open: path }; }, FLOW);
  await page.getByTestId("file-open").click();
  await page.getByTestId("flow-title").filter({ hasText: "Ask" }).waitFor();
}

const dialogAnswer = (page, answer) => page.evaluate((a) => { window.__WEFT_MOCK__.flows.dialog = a; }, answer);

/** Adds a variant that sets the chat node's deployment. */
async function addVariant(page, index, name, deployment) {
  await page.getByTestId("eval-add-variant").click();
  const id = `eval-variant-${index}`;
  await page.getByTestId(`${id}-name`).fill(name);
  await page.getByTestId(`${id}-add-set`).click();
  // The flow has one node that runs: it is chosen already.
  assert.equal(await page.getByTestId(`${id}-set-0-node`).inputValue(), "chat");
  await page.getByTestId(`${id}-set-0-property`).selectOption("deployment");
  await page.getByTestId(`${id}-set-0-value`).fill(deployment);
}

/** Runs the eval and waits for its report (not the last one's, still on screen until it starts). */
async function runAndWait(page) {
  const before = await page.evaluate(() => window.__WEFT_EVAL_ORDERS__?.length ?? 0);
  await page.getByTestId("eval-run").click();
  await page.waitForFunction(
    (n) =>
      (window.__WEFT_EVAL_ORDERS__?.length ?? 0) > n &&
      !document.querySelector('[data-testid="eval-cancel"]') &&
      document.querySelector('[data-testid="eval-verdict"]'),
    before,
    { timeout: 10_000 },
  );
}

test("an eval made with the form is saved, runs its variants with live progress, and its rows read against a baseline", () =>
  withApp(
    async (page) => {
      await openFlow(page);
      await page.getByTestId("open-eval").click();
      await page.getByTestId("eval-panel").waitFor();
      // The flow has no eval beside it yet: an empty panel, no error.
      await page.getByTestId("eval-new").waitFor();
      assert.equal(await page.getByTestId("eval-path").innerText(), "");
      assert.equal(await page.getByTestId("eval-run-error").count(), 0);
      await page.getByTestId("eval-new").click();

      // The dataset: chosen in the dialog, written relative to the eval file, previewed and mapped.
      await dialogAnswer(page, { open: DATA });
      await page.getByTestId("eval-choose-data").click();
      await page.getByTestId("eval-preview").waitFor();
      assert.equal(await page.getByTestId("eval-data").innerText(), "data/questions.csv");
      assert.equal(await page.getByTestId("eval-map-question").inputValue(), "col:question");

      // Two assertions: the answer names the question, and the row answers within 300 ms.
      await page.getByTestId("eval-assert-0-value").fill("${data.question}");
      await page.getByTestId("eval-add-assertion").click();
      await page.getByTestId("eval-assert-1-type").selectOption("latency_ms");
      assert.equal(await page.getByTestId("eval-assert-1-output").count(), 0, "latency reads no output");
      await page.getByTestId("eval-assert-1-max").fill("fast");
      await addVariant(page, 0, "mini", "gpt-4o-mini");
      await addVariant(page, 1, "large", "gpt-4o");
      await page.getByTestId("eval-pass-rate").fill("90");
      await page.getByTestId("eval-p95-latency").fill("2500");
      // A floor for the first assertion's metric, offered from the assertions.
      await page.getByTestId("eval-add-metric").click();
      assert.equal(await page.getByTestId("eval-metric-0-name").inputValue(), "icontains");
      await page.getByTestId("eval-metric-0-floor").fill("0.5");

      // Prices: each new row names a deployment of the flow or its variants not priced yet.
      await page.getByTestId("eval-add-price").click();
      assert.equal(await page.getByTestId("eval-price-0-name").inputValue(), "gpt-4o");
      await page.getByTestId("eval-price-0-input").fill("cheap");
      await page.getByTestId("eval-price-0-output").fill("10");
      await page.getByTestId("eval-add-price").click();
      assert.equal(await page.getByTestId("eval-price-1-name").inputValue(), "gpt-4o-mini");
      await page.getByTestId("eval-price-1-input").fill("0.15");
      await page.getByTestId("eval-price-1-output").fill("0.60");
      await page.getByTestId("eval-add-price").click();
      await page.getByTestId("eval-price-2-name").fill("gpt-4o");
      await page.getByTestId("eval-price-2-input").fill("1");
      await page.getByTestId("eval-price-2-output").fill("1");
      assert.deepEqual(
        await page.locator("#eval-price-deployments option").evaluateAll((els) => els.map((el) => el.getAttribute("value"))),
        ["gpt-4o", "gpt-4o-mini"],
      );

      // A bad number or a name priced twice is refused before anything is written.
      await dialogAnswer(page, { save: EVAL });
      await page.getByTestId("eval-save").click();
      await page.getByTestId("eval-assert-1-max-error").filter({ hasText: "Type a number." }).waitFor();
      assert.equal(await page.getByTestId("eval-error-prices.0.input").innerText(), "Type a number.");
      assert.equal(await page.getByTestId("eval-error-prices.2.name").innerText(), "gpt-4o has another price; keep one.");
      assert.equal(await page.evaluate((p) => window.__WEFT_EVALS__?.[p], EVAL), undefined);
      await page.getByTestId("eval-add-price").scrollIntoViewIfNeeded();
      await screenshot(page, "eval-prices.png");
      await page.getByTestId("eval-assert-1-max").fill("300");
      await page.getByTestId("eval-price-0-input").fill("2.50");
      await page.getByTestId("eval-price-2-remove").click();
      await page.getByTestId("eval-save").click();
      await page.getByTestId("eval-saved").waitFor();
      assert.equal(await page.getByTestId("eval-path").innerText(), "ask.eval.yaml");
      assert.deepEqual(await page.evaluate((p) => window.__WEFT_EVALS__[p], EVAL), {
        name: "Ask",
        flow: "ask.weft.yaml",
        data: "data/questions.csv",
        column_mapping: { question: "${data.question}" },
        variants: [
          { name: "mini", set: { "chat.deployment": "gpt-4o-mini" } },
          { name: "large", set: { "chat.deployment": "gpt-4o" } },
        ],
        assert: [
          { type: "icontains", value: "${data.question}" },
          { type: "latency_ms", max: 300 },
        ],
        thresholds: { pass_rate: 0.9, p95_latency_ms: 2500, metrics: { icontains: 0.5 } },
        prices: { "gpt-4o": { input: 2.5, output: 10 }, "gpt-4o-mini": { input: 0.15, output: 0.6 } },
      });
      assert.equal(await page.getByTestId("eval-error-prices.0.input").count(), 0);
      await screenshot(page, "eval-form.png");

      // Run: each variant's progress, then the aggregates per variant.
      await page.getByTestId("eval-run").click();
      await page.getByTestId("eval-progress").waitFor();
      assert.deepEqual(
        await page.getByTestId("eval-progress-variant").evaluateAll((els) => els.map((el) => el.getAttribute("data-variant"))),
        ["mini", "large"],
      );
      await page.locator('[data-testid="eval-progress-variant"][data-variant="large"][data-phase="running"]').waitFor();
      await screenshot(page, "eval-running.png");
      await page.getByTestId("eval-verdict").waitFor({ timeout: 10_000 });
      assert.equal(await page.getByTestId("eval-status").innerText(), "Failed", "large misses the 90 % pass rate");
      const summary = page.getByTestId("eval-summary-row");
      assert.match(await summary.nth(0).innerText(), /^mini\s+100%\s+12 \/ 12\s+\d+ ms\s+\d+ ms\s+240\s+–\s+✓ pass_rate/);
      assert.match(await summary.nth(1).innerText(), /^large\s+0%\s+0 \/ 12/);
      assert.match(await summary.nth(1).innerText(), /✗ pass_rate/);

      // One column per variant; a cell's reasons on hover.
      assert.deepEqual(await page.getByTestId("eval-grid-variant").allInnerTexts(), ["mini", "large"]);
      const cell = (row, variant) => page.locator(`[data-testid="eval-grid-row"][data-row="${row}"] [data-variant="${variant}"]`);
      await cell(1, "large").waitFor();
      assert.equal(await cell(1, "large").getAttribute("data-pass"), "false");
      assert.match(await cell(1, "large").getAttribute("title"), /✗ latency_ms: 410 ms > 300 ms/);
      assert.match(await cell(1, "large").getAttribute("title"), /✓ icontains: contains `question 2`/);
      await cell(1, "large").hover();
      await screenshot(page, "eval-results.png");

      // A change that makes most of mini's rows fail, run again and read against the first run.
      await page.getByTestId("eval-assert-0-value").fill("question 1");
      await runAndWait(page);
      assert.match(await summary.nth(0).innerText(), /^mini\s+33\.3%\s+4 \/ 12/);
      const first = await page.evaluate(() => window.__TAURI_INTERNALS__.invoke("eval_list", { limit: 10 }).then((l) => l[1].id));
      await page.getByTestId("eval-baseline").selectOption(first);
      await page.locator('[data-testid="eval-cell"][data-mark="regressed"]').first().waitFor();
      // Row 2 named "question 2": it passed before and fails now. Row 1 passes in both; large failed in both.
      assert.equal(await cell(1, "mini").getAttribute("data-mark"), "regressed");
      assert.match(await cell(1, "mini").getAttribute("title"), /^regressed: passed in the baseline/);
      assert.equal(await cell(0, "mini").getAttribute("data-mark"), null);
      assert.equal(await cell(1, "large").getAttribute("data-mark"), null);
      assert.equal(await page.locator('[data-testid="eval-cell"][data-mark="regressed"]').count(), 8);
      await screenshot(page, "eval-baseline.png");

      // Run once more with the first run as baseline: the report counts what changed.
      await runAndWait(page);
      assert.match(await page.getByTestId("eval-changes").innerText(), /8 regressed · 0 fixed/);
      const order = await page.evaluate(() => window.__WEFT_EVAL_ORDERS__.at(-1));
      assert.equal(order.baseline, first);
      assert.equal(order.path, EVAL);
      assert.equal(order.cassette, "off");

      // An eval file opened again shows what was saved.
      await page.getByTestId("eval-close").click();
      await page.getByTestId("eval-panel").waitFor({ state: "hidden" });
      await page.getByTestId("open-eval").click();
      await dialogAnswer(page, { open: EVAL });
      await page.getByTestId("eval-open").click();
      await page.getByTestId("eval-variant-1-name").waitFor();
      assert.equal(await page.getByTestId("eval-variant-1-name").inputValue(), "large");
      assert.equal(await page.getByTestId("eval-assert-0-value").inputValue(), "question 1");
      assert.equal(await page.getByTestId("eval-p95-latency").inputValue(), "2500");
      assert.equal(await page.getByTestId("eval-metric-0-floor").inputValue(), "0.5");
      assert.equal(await page.getByTestId("eval-price-1-name").inputValue(), "gpt-4o-mini");
      assert.equal(await page.getByTestId("eval-price-1-output").inputValue(), "0.6");
      assert.equal(await page.getByTestId("eval-price-2").count(), 0);
    },
    { mock },
  ));

test("an eval's model calls are recorded beside it, then replayed; Cancel stops a running eval", () =>
  withApp(
    async (page) => {
      await openFlow(page);
      // The flow's own eval, ask.eval.yaml beside ask.weft.yaml, opens with the panel.
      await page.getByTestId("open-eval").click();
      await page.getByTestId("eval-preview").waitFor();
      assert.equal(await page.getByTestId("eval-path").innerText(), "ask.eval.yaml");
      assert.equal(await page.getByTestId("eval-other-flow").count(), 0, "the eval is of the open flow");

      await page.getByTestId("eval-cassette").selectOption("replay");
      await page.getByTestId("eval-run").click();
      await page.getByTestId("eval-run-error").filter({ hasText: "there is no cassette at /flows/ask.eval.cassette.jsonl yet" }).waitFor();

      await page.getByTestId("eval-cassette").selectOption("record");
      await runAndWait(page);
      assert.match(await page.getByTestId("eval-cassette-use").innerText(), /Record: 0 replayed · 12 recorded · 0 live/);
      await page.getByTestId("eval-cassette").selectOption("replay");
      await runAndWait(page);
      assert.match(await page.getByTestId("eval-cassette-use").innerText(), /Replay: 12 replayed · 0 recorded · 0 live/);
      assert.deepEqual(await page.evaluate(() => window.__WEFT_EVAL_ORDERS__.map((o) => o.cassette)), ["replay", "record", "replay"]);

      // A slow eval, cancelled while its rows run.
      await page.evaluate(() => { window.__WEFT_MOCK__.batch.waveMs = 400; });
      await page.getByTestId("eval-run").click();
      await page.locator('[data-testid="eval-progress-variant"][data-phase="running"]').waitFor();
      await page.getByTestId("eval-cancel").click();
      await page.getByTestId("eval-status").filter({ hasText: "Cancelled" }).waitFor({ timeout: 10_000 });
      assert.equal(await page.getByTestId("eval-run").isDisabled(), false);
    },
    {
      mock: {
        ...mock,
        evals: { files: { [EVAL]: { flow: "ask.weft.yaml", data: "data/questions.csv", assert: [{ type: "contains", value: "${data.question}" }] } } },
      },
    },
  ));

test("an eval of another flow than the open one says so", () =>
  withApp(
    async (page) => {
      await openFlow(page);
      await page.getByTestId("open-eval").click();
      await dialogAnswer(page, { open: "/other/x.eval.yaml" });
      await page.getByTestId("eval-open").click();
      await page.getByTestId("eval-other-flow").filter({ hasText: "This eval runs other.weft.yaml" }).waitFor();
    },
    {
      mock: {
        ...mock,
        evals: { files: { "/other/x.eval.yaml": { flow: "other.weft.yaml", data: "q.csv", assert: [{ type: "is_json" }] } } },
      },
    },
  ));

test("an eval that cannot run says why", () =>
  withApp(
    async (page) => {
      await openFlow(page);
      await page.getByTestId("open-eval").click();
      await dialogAnswer(page, { open: EVAL });
      await page.getByTestId("eval-open").click();
      await page.getByTestId("eval-assert-0-type").waitFor();
      await page.getByTestId("eval-run").click();
      await page.getByTestId("eval-run-error").filter({ hasText: "could not open /flows/missing.csv: no such file" }).waitFor();
      assert.equal(await page.getByTestId("eval-verdict").count(), 0);
    },
    {
      mock: {
        ...mock,
        evals: { files: { [EVAL]: { flow: "ask.weft.yaml", data: "missing.csv", assert: [{ type: "contains", value: "x" }] } } },
      },
    },
  ));

test("the Record / Replay switch sends its mode with a test run, the run and History say Replayed, and a run is added to a dataset", () =>
  withApp(
    async (page) => {
      // The flow the app starts with is not saved: nowhere to keep a cassette.
      const toggle = page.getByTestId("cassette-switch");
      await toggle.waitFor();
      assert.equal(await toggle.isDisabled(), true);
      assert.match(await toggle.getAttribute("title"), /Save the flow first/);

      await openFlow(page);
      assert.equal(await toggle.isDisabled(), false);
      const testRun = async () => {
        const before = await page.evaluate(() => window.__WEFT_RUN_CASSETTES__?.length ?? 0);
        await page.getByTestId("test-run").click();
        await page.getByTestId("run-inputs").waitFor();
        await page.getByTestId("run-inputs-submit").click();
        await page.waitForFunction(
          (n) => window.__WEFT_RUN_CASSETTES__?.length > n && document.querySelector('[data-testid="run-status"]')?.textContent === "Succeeded",
          before,
          { timeout: 10_000 },
        );
      };
      await toggle.selectOption("record");
      assert.match(await toggle.getAttribute("title"), /ask\.cassette\.jsonl/);
      await testRun();
      assert.match(await page.getByTestId("run-cassette").innerText(), /Recorded\s+0 replayed · 1 recorded · 0 live/);

      await toggle.selectOption("replay");
      await testRun();
      assert.match(await page.getByTestId("run-cassette").innerText(), /Replayed\s+1 replayed · 0 recorded · 0 live/);
      await toggle.selectOption("off");
      await testRun();
      assert.equal(await page.getByTestId("run-cassette").count(), 0);
      assert.deepEqual(
        await page.evaluate(() => window.__WEFT_RUN_CASSETTES__.map((r) => r.cassette)),
        ["record", "replay", "off"],
      );
      await screenshot(page, "run-replayed.png");

      // History marks the replayed run.
      await page.getByTestId("run-tab-history").click();
      const items = page.getByTestId("history-item");
      await items.nth(2).waitFor();
      assert.equal(await items.nth(0).getByTestId("run-cassette").count(), 0);
      assert.match(await items.nth(1).getByTestId("run-cassette").innerText(), /Replayed/);

      // Add to dataset: the run's inputs, and its answer as the expected value.
      await items.nth(1).getByTestId("history-add-to-dataset").click();
      await page.getByTestId("dataset-dialog").waitFor();
      assert.equal(await page.getByTestId("dataset-path").inputValue(), "/flows/ask.dataset.jsonl");
      assert.equal(await page.getByTestId("dataset-expected").inputValue(), "answer");
      await page.getByTestId("dataset-add").click();
      await page.getByTestId("dataset-added").waitFor();
      const lines = (await page.evaluate(() => window.__WEFT_DATASETS__["/flows/ask.dataset.jsonl"])).trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 1);
      assert.equal(lines[0].question, "What is Weft?");
      assert.match(lines[0].expected, /^You asked: What is Weft\?/);
      await screenshot(page, "add-to-dataset.png");

      // Only the inputs, into a CSV chosen in the dialog.
      await dialogAnswer(page, { save: "/flows/cases.csv" });
      await page.getByTestId("dataset-choose").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="dataset-path"]').value === "/flows/cases.csv");
      await page.getByTestId("dataset-expected").selectOption("");
      await page.getByTestId("dataset-add").click();
      await page.waitForFunction(() => window.__WEFT_DATASETS__["/flows/cases.csv"] === "question\nWhat is Weft?\n");
    },
    { mock },
  ));
