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

test("a Chat completion card folds its optional ports nothing is wired into, and opens them on request", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    // Required (Deployment, User prompt), the wired Template variables; the other ten are folded.
    assert.deepEqual(await inputHandles(page, "chat"), ["deployment", "user_prompt", "variables"]);
    const fold = page.getByTestId("ports-fold-chat");
    assert.equal(await fold.innerText(), "+ 10 more");
    assert.equal(await fold.getAttribute("aria-expanded"), "false");
    const folded = (await node(page, "chat").boundingBox()).height;

    await fold.click();
    assert.equal((await inputHandles(page, "chat")).length, 13);
    assert.equal(await fold.innerText(), "Show fewer");
    assert.equal(await fold.getAttribute("aria-expanded"), "true");
    const zoom = await page.evaluate(() => new DOMMatrix(getComputedStyle(document.querySelector(".react-flow__viewport")).transform).a);
    const grown = ((await node(page, "chat").boundingBox()).height - folded) / zoom;
    assert.ok(Math.abs(grown - 10 * 18) < 1, `the card grew by ten 18 px rows, not ${grown} px`);
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
    await page.getByTestId("ports-fold-chat").filter({ hasText: "+ 9 more" }).waitFor();
    assert.deepEqual(await inputHandles(page, "chat"), ["deployment", "user_prompt", "variables", "when"]);
  }));
