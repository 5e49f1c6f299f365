import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const FLOW = "/flows/ask.weft.yaml";
const DATA = "/data/questions.csv";

const flow = {
  schema: 1,
  title: "Ask",
  inputs: { question: { type: "string" }, tone: { type: "string", default: "friendly" }, audience: { type: "string" } },
  outputs: { answer: { value: "${chat.output}" } },
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 120 } },
    {
      id: "chat",
      type: "chat_completion",
      position: { x: 320, y: 120 },
      properties: {
        connection: "azure-ai",
        deployment: "gpt-4o-mini",
        user_prompt: "{{ q }} ({{ t }}, for {{ a }})",
        variables: { q: "${inputs.question}", t: "${inputs.tone}", a: "${inputs.audience}" },
      },
    },
    { id: "outputs", type: "outputs", position: { x: 640, y: 120 } },
  ],
};

/** The flow opened from its file, its connection saved (unless not), the Batch panel open. */
async function openPanel(page, { connection = true } = {}) {
  await page.locator('.react-flow__node[data-id="chat"]').waitFor();
  if (connection)
    await page.evaluate(() =>
      window.__TAURI_INTERNALS__.invoke("create_connection", {
        input: { name: "azure-ai", type: "azure_ai", config: { endpoint: "https://res.services.ai.azure.com/models" }, secrets: { api_key: "k" } },
      }),
    );
  await page.evaluate((path) => { window.__WEFT_MOCK__.flows.dialog = { open: path }; }, FLOW);
  await page.getByTestId("file-open").click();
  await page.getByTestId("flow-title").filter({ hasText: "Ask" }).waitFor();
  await page.getByTestId("open-batch").click();
  const panel = page.getByTestId("batch-panel");
  await panel.waitFor();
  return panel;
}

async function chooseData(page, path) {
  await page.evaluate((p) => { window.__WEFT_MOCK__.flows.dialog = { open: p }; }, path);
  await page.getByTestId("batch-choose-data").click();
  await page.getByTestId("batch-preview").waitFor();
}

const text = (page, id) => page.getByTestId(id).innerText();

test("the Batch panel maps columns, runs with live progress, filters the rows, opens one node by node, resumes and exports", () =>
  withApp(
    async (page) => {
      const panel = await openPanel(page);
      assert.equal(await page.getByTestId("batch-start").isDisabled(), true, "nothing to run before a data file");

      await chooseData(page, DATA);
      const preview = page.getByTestId("batch-preview");
      assert.equal(await preview.locator("tbody tr").count(), 5, "the first rows, not the file");
      assert.match(await preview.locator("thead").innerText(), /Question\s+audience\s+extra/);
      assert.match(await preview.locator(".batch-preview-bad").innerText(), /line 6: 2 fields where the header has 3 columns/);

      // Auto-mapped by name (ignoring case); tone has a default, so it is left to it.
      assert.equal(await page.getByTestId("batch-map-question").inputValue(), "col:Question");
      assert.equal(await page.getByTestId("batch-map-audience").inputValue(), "col:audience");
      assert.match(await page.getByTestId("batch-map-tone").locator("option:checked").innerText(), /Not mapped \(its default\)/);

      // Unmapping question leaves nothing to fill it: Start waits for a fix.
      await page.getByTestId("batch-map-question").selectOption({ label: "Not mapped" });
      assert.match(await text(page, "batch-map-problem-question"), /choose a column or type a value/);
      assert.equal(await page.getByTestId("batch-start").isDisabled(), true);
      await page.getByTestId("batch-map-question").selectOption("col:Question");
      assert.equal(await page.getByTestId("batch-map-problem-question").count(), 0);

      // A static value for every row, and a fixed concurrency.
      await page.getByTestId("batch-map-tone").selectOption({ label: "A value for every row…" });
      await page.getByTestId("batch-static-tone").fill("formal");
      await page.getByTestId("batch-concurrency-fixed").check();
      await page.getByTestId("batch-concurrency-n").fill("4");
      await page.getByTestId("batch-name").fill("questions-v1");
      await screenshot(page, "batch-mapping.png");

      await page.getByTestId("batch-start").click();
      await page.getByTestId("batch-status").filter({ hasText: "Running" }).waitFor();
      await page.getByTestId("batch-concurrency-now").filter({ hasText: "concurrency 4" }).waitFor();
      await page.waitForFunction(() => /^(\d+) of 60 rows$/.test(document.querySelector('[data-testid="batch-done"]')?.textContent ?? ""));
      const notices = page.getByTestId("batch-notices");
      await notices.filter({ hasText: "asked to slow down" }).waitFor();
      await notices.filter({ hasText: "Row 5 (line 6): 2 fields where the header has 3 columns" }).waitFor();
      // Rows show in the grid while the batch runs.
      await page.getByTestId("batch-grid-row").first().waitFor();
      assert.equal(await page.getByTestId("batch-export-csv").count(), 0, "export waits for the end");
      await screenshot(page, "batch-running.png");

      await page.getByTestId("batch-status").filter({ hasText: "Failed" }).waitFor({ timeout: 10_000 });
      assert.equal(await text(page, "batch-done"), "60 of 60 rows");
      // The bad row and every 7th row failed.
      assert.match(await text(page, "batch-filter-failed"), /Failed\s+9/);
      assert.match(await text(page, "batch-filter-succeeded"), /Succeeded\s+51/);

      await page.getByTestId("batch-filter-failed").click();
      const rows = page.getByTestId("batch-grid-row");
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="batch-grid-row"][data-status="failed"]').length === 9);
      assert.deepEqual(
        await rows.evaluateAll((els) => els.map((el) => el.getAttribute("data-row"))),
        ["4", "6", "13", "20", "27", "34", "41", "48", "55"],
      );

      // A row opens node by node, as a test run does.
      await rows.nth(1).click();
      const detail = page.getByTestId("batch-row-detail");
      await detail.waitFor();
      assert.match(await detail.locator(".batch-row-head h3").innerText(), /Row 7\s+line 8/);
      assert.match(await text(page, "batch-row-error"), /HTTP 500/);
      const inputs = JSON.parse(await text(page, "batch-row-inputs"));
      assert.deepEqual(inputs, { question: "Question 7", tone: "formal", audience: "audience 7" });
      await detail.getByTestId("run-node-chat").waitFor();
      assert.match(await detail.getByTestId("run-node-detail").innerText(), /Failed/);
      await screenshot(page, "batch-row.png");

      // Resume reruns the rows that did not succeed; the bad row fails again, with its line.
      await page.getByTestId("batch-resume").click();
      await page.getByTestId("batch-status").filter({ hasText: "Running" }).waitFor();
      await page.getByTestId("batch-status").filter({ hasText: "Failed" }).waitFor({ timeout: 10_000 });
      assert.match(await text(page, "batch-filter-failed"), /Failed\s+1/);
      assert.match(await text(page, "batch-filter-succeeded"), /Succeeded\s+59/);

      await page.evaluate(() => { window.__WEFT_MOCK__.flows.dialog = { save: "/out/questions" }; });
      await page.getByTestId("batch-export-csv").click();
      await page.getByTestId("batch-exported").filter({ hasText: "/out/questions.csv" }).waitFor();
      const csv = await page.evaluate(() => window.__WEFT_EXPORTS__["/out/questions.csv"]);
      const lines = csv.trim().split("\n");
      assert.equal(lines[0], "row,line,status,error,latency_ms,prompt_tokens,completion_tokens,inputs.question,inputs.tone,inputs.audience,outputs.answer");
      assert.equal(lines.length, 61);

      // The batch is in History, and opens in the panel again from there.
      await page.getByTestId("batch-close").click();
      await panel.waitFor({ state: "hidden" });
      await page.getByTestId("run-tab-history").click();
      const item = page.getByTestId("batch-history-item");
      await item.waitFor();
      assert.match(await item.innerText(), /questions-v1\s+ask\.weft\.yaml × questions\.csv/);
      assert.match(await item.innerText(), /60 rows · 1 failed/);
      await item.getByRole("button", { name: /Open the batch/ }).click();
      await panel.waitFor();
      assert.match(await text(page, "batch-filter-all"), /All\s+60/);
    },
    {
      mock: {
        flows: { files: { [FLOW]: flow } },
        batch: {
          files: { [DATA]: { columns: ["Question", "audience", "extra"], rows: 60, badRows: [4] } },
          rowsPerWave: 3,
          waveMs: 50,
          failEvery: 7,
          throttleAfterWaves: 2,
        },
      },
    },
  ));

test("Cancel stops a running batch and keeps what finished; Resume runs only the rest", () =>
  withApp(
    async (page) => {
      await openPanel(page);
      // A path pasted instead of chosen in the dialog.
      await page.getByTestId("batch-data-path").fill(DATA);
      await page.getByTestId("batch-data-path").press("Enter");
      await page.getByTestId("batch-preview").waitFor();
      await page.getByTestId("batch-start").click();
      await page.waitForFunction(() => Number(/^(\d+)/.exec(document.querySelector('[data-testid="batch-done"]')?.textContent ?? "")?.[1] ?? 0) >= 6);
      await page.getByTestId("batch-cancel").click();
      await page.getByTestId("batch-status").filter({ hasText: "Cancelled" }).waitFor();
      const cancelled = Number(/Cancelled\s+(\d+)/.exec(await text(page, "batch-filter-cancelled"))?.[1]);
      const succeeded = Number(/Succeeded\s+(\d+)/.exec(await text(page, "batch-filter-succeeded"))?.[1]);
      assert.ok(cancelled > 0, "the rows in flight are recorded cancelled");
      assert.ok(succeeded >= 6 && succeeded < 40, `${succeeded} rows had finished`);

      await page.getByTestId("batch-resume").click();
      await page.getByTestId("batch-status").filter({ hasText: "Succeeded" }).waitFor({ timeout: 10_000 });
      assert.equal(await text(page, "batch-done"), "40 of 40 rows");
      assert.match(await text(page, "batch-filter-cancelled"), /Cancelled\s+0/);
    },
    {
      mock: {
        flows: { files: { [FLOW]: flow } },
        batch: { files: { [DATA]: { columns: ["question", "audience"], rows: 40 } }, rowsPerWave: 2, waveMs: 60 },
      },
    },
  ));

test("a batch that cannot start says why, and nothing runs", () =>
  withApp(
    async (page) => {
      await openPanel(page, { connection: false });
      await chooseData(page, DATA);
      await page.getByTestId("batch-start").click();
      const error = page.getByTestId("batch-error");
      await error.waitFor();
      assert.match(await error.innerText(), /unknown connection `azure-ai`; create it in Connections/);
      assert.equal(await page.getByTestId("batch-progress").count(), 0, "no batch was stored");
      assert.equal(await page.getByTestId("batch-start").isDisabled(), false, "Start is offered again");
      await page.getByTestId("batch-close").click();
      await page.getByTestId("run-tab-history").click();
      await page.getByText("No runs yet").waitFor();
      assert.equal(await page.getByTestId("batch-history-item").count(), 0);
    },
    {
      mock: {
        flows: { files: { [FLOW]: flow } },
        batch: { files: { [DATA]: { columns: ["question", "audience"], rows: 5 } } },
      },
    },
  ));

test("with the Azure Batch engine the panel shows Azure's progress, and a flow with two model calls is refused naming the second", () =>
  withApp(
    async (page) => {
      await openPanel(page);
      await chooseData(page, DATA);
      await page.getByTestId("batch-engine-azure").check();
      assert.equal(await page.getByTestId("batch-concurrency-auto").isDisabled(), true, "Azure schedules the calls");
      await page.getByTestId("batch-start").click();
      await page.waitForFunction(() =>
        /Azure: in progress · 5 of 10 requests answered/.test(document.querySelector('[data-testid="batch-remote"]')?.textContent ?? ""),
      );
      await page.getByTestId("batch-status").filter({ hasText: "Succeeded" }).waitFor({ timeout: 10_000 });
      assert.match(await text(page, "batch-remote"), /Azure: completed · 10 of 10 requests answered/);

      // A second chat node: the Batch API makes one model call per row.
      await page.getByTestId("batch-close").click();
      await page.evaluate((path) => { window.__WEFT_MOCK__.flows.dialog = { open: path }; }, "/flows/two.weft.yaml");
      await page.getByTestId("file-open").click();
      await page.getByTestId("flow-title").filter({ hasText: "Two" }).waitFor();
      await page.getByTestId("open-batch").click();
      await page.getByTestId("batch-start").click();
      const error = page.getByTestId("batch-error");
      await error.waitFor();
      assert.match(await error.innerText(), /`review` is a second model call beside `chat`/);
    },
    {
      mock: {
        flows: {
          files: {
            [FLOW]: flow,
            "/flows/two.weft.yaml": {
              ...flow,
              title: "Two",
              nodes: [...flow.nodes, { ...flow.nodes[1], id: "review", position: { x: 320, y: 320 } }],
            },
          },
        },
        batch: { files: { [DATA]: { columns: ["question", "audience"], rows: 10 } }, rowsPerWave: 5, waveMs: 80 },
      },
    },
  ));

test("a 100,000-row batch's grid keeps only a window of rows in the DOM and fetches pages where it scrolls", () =>
  withApp(
    async (page) => {
      await openPanel(page);
      await chooseData(page, "/data/big.jsonl");
      await page.getByTestId("batch-start").click();
      await page.getByTestId("batch-status").filter({ hasText: "Succeeded" }).waitFor({ timeout: 20_000 });
      assert.equal(await text(page, "batch-done"), "100,000 of 100,000 rows");

      const rowsInDom = () => page.getByTestId("batch-grid-row").count();
      await page.locator('[data-testid="batch-grid-row"][data-row="0"]').waitFor();
      assert.ok((await rowsInDom()) < 60, `${await rowsInDom()} rows in the DOM`);

      // Scroll through the whole grid in steps, timing each frame, then to the very end.
      await page.evaluate(() => { window.__WEFT_BATCH_PAGES__ = []; });
      const frames = await page.evaluate(async () => {
        const scroller = document.querySelector('[data-testid="batch-grid-scroll"]');
        const times = [];
        let last = performance.now();
        for (let i = 1; i <= 60; i++) {
          scroller.scrollTop = (scroller.scrollHeight * i) / 60;
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          times.push(now - last);
          last = now;
        }
        return times.sort((a, b) => a - b);
      });
      await page.locator('[data-testid="batch-grid-row"][data-row="99999"]').waitFor();
      const count = await rowsInDom();
      assert.ok(count < 60, `${count} rows in the DOM at the end`);
      const pages = await page.evaluate(() => window.__WEFT_BATCH_PAGES__);
      assert.ok(pages.every((p) => p.limit <= 100), "pages of at most 100 rows");
      const fetched = pages.reduce((sum, p) => sum + p.limit, 0);
      assert.ok(fetched < 10_000, `${fetched} rows fetched for a scroll through 100,000`);
      const median = frames[Math.floor(frames.length / 2)];
      console.log(`100,000-row grid: ${count} rows in the DOM, ${pages.length} pages fetched, frame median ${median.toFixed(1)} ms, max ${frames.at(-1).toFixed(1)} ms`);
      await screenshot(page, "batch-100k.png");

      // A row far down opens like any other.
      await page.locator('[data-testid="batch-grid-row"][data-row="99999"]').click();
      assert.match(await page.locator(".batch-row-head h3").innerText(), /Row 100000\s+line 100000/);
    },
    {
      mock: {
        flows: { files: { [FLOW]: flow } },
        batch: { files: { "/data/big.jsonl": { columns: ["question", "audience"], rows: 100_000 } }, rowsPerWave: 20_000, waveMs: 20 },
      },
    },
  ));
