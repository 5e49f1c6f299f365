import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const handle = (page, id, handleId) => node(page, id).locator(`.react-flow__handle[data-handleid="${handleId}"]`);
const inputHandles = (page, id) => node(page, id).locator(".react-flow__handle.target").evaluateAll((hs) => hs.map((h) => h.getAttribute("data-handleid")));

/** A real HTML5 drag from a palette item to a point on the canvas. */
async function dragFromPalette(page, kind, x, y) {
  const transfer = await page.evaluateHandle(() => new DataTransfer());
  await page.getByTestId(`palette-item-${kind}`).dispatchEvent("dragstart", { dataTransfer: transfer });
  const pane = page.locator(".react-flow__pane");
  await pane.dispatchEvent("dragover", { dataTransfer: transfer, clientX: x, clientY: y });
  await pane.dispatchEvent("drop", { dataTransfer: transfer, clientX: x, clientY: y });
}

/** The nodes whose box on screen meets the minimap's. */
const underMinimap = (page) =>
  page.evaluate(() => {
    const m = document.querySelector(".react-flow__minimap").getBoundingClientRect();
    return [...document.querySelectorAll(".react-flow__node")]
      .filter((n) => {
        const b = n.getBoundingClientRect();
        return b.left < m.right && m.left < b.right && b.top < m.bottom && m.top < b.bottom;
      })
      .map((n) => n.getAttribute("data-id"));
  });

/** Waits until the viewport has stopped moving (the fit runs two frames after a flow loads). */
async function settled(page) {
  let last = "";
  for (;;) {
    await page.waitForTimeout(150);
    const now = await page.evaluate(() => getComputedStyle(document.querySelector(".react-flow__viewport")).transform);
    if (now === last) return;
    last = now;
  }
}

test("a Chat completion card folds its optional ports nothing is wired into, and opens them on request", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    // Required (Deployment, User prompt), the wired Template variables; the other twelve are folded.
    assert.deepEqual(await inputHandles(page, "chat"), ["deployment", "user_prompt", "variables"]);
    const fold = page.getByTestId("ports-fold-chat");
    assert.equal(await fold.innerText(), "+ 12 more");
    assert.equal(await fold.getAttribute("aria-expanded"), "false");
    const folded = (await node(page, "chat").boundingBox()).height;

    await fold.click();
    assert.equal((await inputHandles(page, "chat")).length, 15);
    assert.equal(await fold.innerText(), "Show fewer");
    assert.equal(await fold.getAttribute("aria-expanded"), "true");
    const zoom = await page.evaluate(() => new DOMMatrix(getComputedStyle(document.querySelector(".react-flow__viewport")).transform).a);
    const grown = ((await node(page, "chat").boundingBox()).height - folded) / zoom;
    assert.ok(Math.abs(grown - 12 * 18) < 1, `the card grew by twelve 18 px rows, not ${grown} px`);
    await screenshot(page, "card-open.png");
    await fold.click();
    assert.equal((await inputHandles(page, "chat")).length, 3);
  }));

test("a wire dragged over a folded card opens it, drops on a folded port, and that port stays once wired", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    await dragFromPalette(page, "condition", 420, 620);
    await node(page, "condition").waitFor();

    await handle(page, "condition", "output").hover();
    await page.mouse.down();
    const card = await node(page, "chat").boundingBox();
    await page.mouse.move(card.x + card.width / 2, card.y + card.height / 2, { steps: 8 });
    // Run when is optional and unwired: folded until the wire came over the card.
    const when = handle(page, "chat", "when");
    await when.waitFor();
    const box = await when.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.locator('.react-flow__edge[data-id="condition.output>chat.when"]').waitFor();

    // The drag is over: the card folds again, keeping the port that is now wired.
    await page.getByTestId("ports-fold-chat").filter({ hasText: "+ 11 more" }).waitFor();
    assert.deepEqual(await inputHandles(page, "chat"), ["deployment", "user_prompt", "variables", "when"]);
  }));

test("no node is under the minimap when the sample flow opens, nor when a flow opens in a short canvas", () =>
  withApp(
    async (page) => {
      await node(page, "outputs").waitFor();
      await settled(page);
      assert.deepEqual(await underMinimap(page), []);

      // A tall run panel leaves a canvas 284 px high: centred there, the row of cards would reach
      // into the minimap in the bottom-right corner.
      await page.getByTestId("run-tab-problems").click();
      const divider = page.getByTestId("run-panel-resize");
      await divider.focus();
      while (Number(await divider.getAttribute("aria-valuenow")) < 440) await page.keyboard.press("ArrowUp");
      assert.equal(await divider.getAttribute("aria-valuenow"), "440");
      await page.evaluate(() => { window.__WEFT_MOCK__.flows.dialog = { open: "/flows/row.weft.yaml" }; });
      await page.getByTestId("file-open").click();
      await node(page, "answer").waitFor();
      await settled(page);
      assert.deepEqual(await underMinimap(page), []);
      await screenshot(page, "fit-short-canvas.png");
    },
    {
      mock: {
        flows: {
          files: {
            "/flows/row.weft.yaml": {
              schema: 1,
              title: "Row",
              inputs: { question: { type: "string" } },
              outputs: { answer: { value: "${answer.output}" } },
              nodes: [
                { id: "inputs", type: "inputs", position: { x: 0, y: 120 } },
                { id: "prompt", type: "prompt_template", position: { x: 320, y: 120 }, properties: { template: "{{ q }}", variables: { q: "${inputs.question}" } } },
                { id: "answer", type: "prompt_template", position: { x: 640, y: 120 }, properties: { template: "{{ p }}", variables: { p: "${prompt.output}" } } },
                { id: "outputs", type: "outputs", position: { x: 960, y: 120 } },
              ],
            },
          },
        },
      },
    },
  ));
