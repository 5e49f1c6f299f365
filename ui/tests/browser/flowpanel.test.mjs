import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const mod = process.platform === "darwin" ? "Meta" : "Control";

/** How many pixels of the field's value are cut off (0 when it shows whole). */
const hidden = (locator) => locator.evaluate((el) => el.scrollWidth - el.clientWidth);

test("the flow panel's input and output name fields show the whole name, and follow an undone rename", () =>
  withApp(async (page) => {
    await page.locator('.react-flow__node[data-id="chat"]').waitFor();
    const inputName = page.getByTestId("flow-input-question").getByLabel("Input name");
    const outputName = page.getByTestId("flow-output-answer").getByLabel("Output name");
    assert.equal(await outputName.inputValue(), "answer");
    assert.equal(await hidden(inputName), 0, "the input name is cut off");
    assert.equal(await hidden(outputName), 0, "the output name is cut off (it showed “an” for answer)");
    await screenshot(page, "flow-panel-names.png");

    // Rename the output, then undo: the field shows the name the flow has again.
    await outputName.fill("reply");
    await outputName.blur();
    const renamed = page.getByTestId("flow-output-reply").getByLabel("Output name");
    assert.equal(await renamed.inputValue(), "reply");
    await page.locator(".react-flow__pane").click({ position: { x: 100, y: 600 } });
    await page.keyboard.press(`${mod}+z`);
    await page.getByTestId("flow-output-answer").waitFor();
    assert.equal(await page.getByTestId("flow-output-answer").getByLabel("Output name").inputValue(), "answer");

    // The same for an input.
    await inputName.fill("query");
    await inputName.blur();
    await page.getByTestId("flow-input-query").waitFor();
    await page.locator(".react-flow__pane").click({ position: { x: 100, y: 600 } });
    await page.keyboard.press(`${mod}+z`);
    await page.getByTestId("flow-input-question").waitFor();
    assert.equal(await page.getByTestId("flow-input-question").getByLabel("Input name").inputValue(), "question");
  }));

test("the first-start hint goes away once the flow has run, and stays gone after a reload", () =>
  withApp(async (page) => {
    await page.locator('.react-flow__node[data-id="chat"]').waitFor();
    await page.getByTestId("sample-hint").waitFor();
    await page.evaluate(() =>
      window.__TAURI_INTERNALS__.invoke("create_connection", {
        input: { name: "azure-ai", type: "azure_ai", config: { endpoint: "https://res.services.ai.azure.com/models" }, secrets: { api_key: "k" } },
      }),
    );
    await page.getByTestId("test-run").click();
    await page.getByTestId("run-inputs").waitFor();
    await page.getByTestId("run-inputs-submit").click();
    await page.getByTestId("sample-hint").waitFor({ state: "detached" });
    await page.reload();
    await page.locator('.react-flow__node[data-id="chat"]').waitFor();
    // The sample flow is back, without the hint.
    await page.getByTestId("flow-output-answer").waitFor();
    assert.equal(await page.getByTestId("sample-hint").count(), 0);
  }));
