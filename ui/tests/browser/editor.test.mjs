import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const handle = (page, id, handleId) => node(page, id).locator(`.react-flow__handle[data-handleid="${handleId}"]`);
const ids = (page) => page.$$eval(".react-flow__node", (nodes) => nodes.map((n) => n.getAttribute("data-id")));
const mod = process.platform === "darwin" ? "Meta" : "Control";

/** A real HTML5 drag from a palette item to a point on the canvas. */
async function dragFromPalette(page, kind, x, y) {
  const transfer = await page.evaluateHandle(() => new DataTransfer());
  const item = page.getByTestId(`palette-item-${kind}`);
  await item.dispatchEvent("dragstart", { dataTransfer: transfer });
  const pane = page.locator(".react-flow__pane");
  await pane.dispatchEvent("dragover", { dataTransfer: transfer, clientX: x, clientY: y });
  await pane.dispatchEvent("drop", { dataTransfer: transfer, clientX: x, clientY: y });
}

async function ready(page) {
  await node(page, "chat").waitFor();
  // The sample flow's first validation has come back (its connection is unknown in the mock).
  await page.getByTestId("node-problems-chat").waitFor();
}

test("the sample flow opens with its wires, and a palette drag adds a node where it is dropped", () =>
  withApp(async (page) => {
    await ready(page);
    assert.equal(await page.getByTestId("flow-title").innerText(), "Chat");
    assert.equal(await page.locator(".react-flow__edge").count(), 2, "question → chat, chat → answer");
    await page.getByTestId("sample-hint").waitFor();
    // The minimap draws the three nodes (one rectangle each in its path).
    const minimapRects = await page.locator(".react-flow__minimap-node").evaluateAll((paths) => paths.map((p) => (p.getAttribute("d").match(/M/g) ?? []).length));
    assert.equal(minimapRects.reduce((a, b) => a + b, 0), 3);

    await dragFromPalette(page, "prompt_template", 700, 600);
    await node(page, "prompt").waitFor();
    const box = await node(page, "prompt").boundingBox();
    assert.ok(Math.abs(box.x - 700) < 4 && Math.abs(box.y - 600) < 4, `dropped at ${box.x},${box.y}`);
    assert.equal(await page.getByLabel("Properties").locator(".panel-title").first().textContent(), "¶ Prompt template");
    await dragFromPalette(page, "prompt_template", 700, 400);
    await node(page, "prompt_2").waitFor();
    await page.getByTestId("dirty-marker").waitFor();
    assert.match(await page.title(), /^• Chat — Weft$/);
    await screenshot(page, "editor-dropped.png");
  }));

test("wire two nodes handle to handle; a refused wire says why; undo and redo", () =>
  withApp(async (page) => {
    await ready(page);
    await dragFromPalette(page, "prompt_template", 620, 560);
    await node(page, "prompt").waitFor();

    // A template cannot take a wire: the reason shows while dragging.
    await handle(page, "inputs", "question").hover();
    await page.mouse.down();
    const target = await handle(page, "prompt", "template").boundingBox();
    await page.mouse.move(target.x + 10, target.y + 3, { steps: 8 });
    await page.mouse.move(target.x + 4, target.y + 4, { steps: 2 });
    const hint = page.getByTestId("connection-hint");
    await hint.waitFor();
    assert.match(await hint.innerText(), /Template reads the node's variables/);
    await page.mouse.up();
    await hint.waitFor({ state: "detached" });
    assert.equal(await page.locator(".react-flow__edge").count(), 2);

    await handle(page, "inputs", "question").dragTo(handle(page, "prompt", "variables"));
    await page.locator('.react-flow__edge[data-id="inputs.question>prompt.variables.question"]').waitFor();
    await node(page, "prompt").click();
    assert.equal(await page.getByLabel("Variable question value").inputValue(), "${inputs.question}");

    await page.keyboard.press(`${mod}+z`);
    await page.locator(".react-flow__edge").nth(2).waitFor({ state: "detached" });
    assert.equal(await page.locator(".react-flow__edge").count(), 2);
    await page.keyboard.press(`${mod}+Shift+z`);
    await page.locator('.react-flow__edge[data-id="inputs.question>prompt.variables.question"]').waitFor();
    await page.keyboard.press(`${mod}+z`);
    await page.keyboard.press(`${mod}+z`);
    await node(page, "prompt").waitFor({ state: "detached" });
    await page.keyboard.press("Control+y");
    await node(page, "prompt").waitFor();

    // A wire is picked with the mouse on its path (its middle has a delete button) and deleted with
    // Delete, taking its reference along.
    await handle(page, "inputs", "question").dragTo(handle(page, "prompt", "variables"));
    const wire = '.react-flow__edge[data-id="inputs.question>prompt.variables.question"]';
    await page.locator(wire).waitFor();
    const middle = await page.evaluate((selector) => {
      const path = document.querySelector(`${selector} path.react-flow__edge-path`);
      const point = path.getPointAtLength(path.getTotalLength() / 4);
      const m = path.getScreenCTM();
      return { x: point.x * m.a + m.e, y: point.y * m.d + m.f };
    }, wire);
    await page.mouse.click(middle.x, middle.y);
    await page.locator(`${wire}.selected`).waitFor();
    await page.keyboard.press("Delete");
    await page.locator(wire).waitFor({ state: "detached" });
    await node(page, "prompt").click();
    assert.equal(await page.getByLabel("Variable question value").count(), 0, "the reference went with the wire");
  }));

test("edit a property in the panel; typing is one undo step; the validator's message shows under it", () =>
  withApp(async (page) => {
    await ready(page);
    await node(page, "chat").click();
    const deployment = page.getByTestId("prop-chat-deployment");
    assert.equal(await deployment.inputValue(), "gpt-4o-mini");
    await deployment.fill("");
    await deployment.blur();
    const problem = page.getByTestId("problems-chat-deployment");
    await problem.waitFor();
    assert.match(await problem.innerText(), /needs a deployment name/);
    await deployment.click();
    await deployment.pressSequentially("gpt-4o");
    await problem.waitFor({ state: "detached" });
    assert.match(await node(page, "chat").innerText(), /gpt-4o\n/);
    await deployment.blur();
    // The connection picker lists no saved connection in the mock, so the sample's is flagged.
    assert.match(await page.getByTestId("problems-chat-connection").innerText(), /unknown connection `azure-ai`/);

    await page.keyboard.press(`${mod}+z`);
    assert.equal(await deployment.inputValue(), "", "the typing was one step");
    await page.keyboard.press(`${mod}+z`);
    assert.equal(await deployment.inputValue(), "gpt-4o-mini");

    // The template field is a highlighted preview until clicked, then CodeMirror in the same box,
    // with `${` completion from the flow and `{{ ` completion of the node's template variables.
    const field = page.getByTestId("code-prop-chat-user_prompt");
    await field.scrollIntoViewIfNeeded();
    const preview = await field.boundingBox();
    assert.equal(await field.locator(".cm-editor").count(), 0, "no editor before the field is used");
    assert.equal(await field.locator(".tok-delimiter").first().innerText(), "{{");
    await page.getByLabel("User prompt", { exact: true }).click();
    await field.locator(".cm-editor .tok-delimiter").first().waitFor();
    const opened = await field.boundingBox();
    assert.deepEqual([opened.y, opened.height].map(Math.round), [preview.y, preview.height].map(Math.round), "opening the editor moves nothing");
    await page.keyboard.press("End");
    await page.keyboard.type(" ${inp");
    await page.locator(".cm-tooltip-autocomplete").getByText("${inputs.question}").waitFor();
    await page.keyboard.press("Escape");
    await page.keyboard.type(" {{ ");
    await page.locator(".cm-tooltip-autocomplete").getByText("question", { exact: true }).waitFor();
    await screenshot(page, "editor-properties.png");
  }));

test("copy, paste and duplicate give fresh ids; Delete removes; save writes the document", () =>
  withApp(
    async (page) => {
      await ready(page);
      await node(page, "chat").click();
      await page.keyboard.press(`${mod}+c`);
      // Pasted where the pointer is: it is still where it clicked, the middle of `chat`.
      const chat = await node(page, "chat").boundingBox();
      await page.keyboard.press(`${mod}+v`);
      await node(page, "chat_2").waitFor();
      const pasted = await node(page, "chat_2").boundingBox();
      assert.ok(Math.abs(pasted.x - (chat.x + chat.width / 2)) < 2 && Math.abs(pasted.y - (chat.y + chat.height / 2)) < 2, `pasted at ${pasted.x},${pasted.y}`);
      await page.keyboard.press(`${mod}+d`);
      await node(page, "chat_3").waitFor();
      await page.keyboard.press("Delete");
      await node(page, "chat_3").waitFor({ state: "detached" });
      assert.deepEqual(await ids(page), ["inputs", "chat", "outputs", "chat_2"]);

      await page.getByTestId("file-save").click();
      await page.getByTestId("dirty-marker").waitFor({ state: "detached" });
      const saved = await page.evaluate(() => window.__WEFT_FILES__["/home/ada/flows/chat.weft.yaml"]);
      assert.deepEqual(saved.nodes.map((n) => n.id), ["inputs", "chat", "outputs", "chat_2"]);
      assert.deepEqual(saved.nodes[3].properties.variables, { question: "${inputs.question}" });
      assert.equal(saved.title, "Chat");
      assert.match(await page.title(), /^Chat — chat\.weft\.yaml — Weft$/);
      assert.match(await page.getByTestId("file-recent").innerText(), /chat\.weft\.yaml/);
    },
    { mock: { flows: { dialog: { save: "/home/ada/flows/chat" } } } },
  ));

test("right-click menus: run, copy, duplicate and delete a node; paste on the canvas where clicked", () =>
  withApp(async (page) => {
    await ready(page);
    const menu = page.getByTestId("context-menu");
    const item = (name) => menu.getByRole("menuitem", { name, exact: true });
    await node(page, "chat").click({ button: "right" });
    assert.deepEqual(await menu.getByRole("menuitem").allInnerTexts(), ["Run this node", "Run from here", "Copy\nCtrl+C", "Cut\nCtrl+X", "Duplicate\nCtrl+D", "Delete\nDel"]);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Run this node", "the first item has the focus");
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "detached" });

    await node(page, "inputs").click({ button: "right" });
    await item("Copy").waitFor();
    assert.equal(await item("Run this node").count(), 0, "the flow's inputs do not run on their own");
    await page.mouse.click(700, 300);
    await menu.waitFor({ state: "detached" });

    await node(page, "chat").click({ button: "right" });
    await item("Copy").click();
    // Left of the minimap: the pasted card is clicked in its middle below.
    await page.mouse.click(420, 560, { button: "right" });
    await item("Paste here").click();
    await node(page, "chat_2").waitFor();
    const pasted = await node(page, "chat_2").boundingBox();
    assert.ok(Math.abs(pasted.x - 420) < 2 && Math.abs(pasted.y - 560) < 2, `pasted at ${pasted.x},${pasted.y}`);

    // Going from one chat node to another reuses the form, but not the open editor.
    await node(page, "chat").click();
    await page.getByLabel("User prompt", { exact: true }).click();
    await page.locator('[data-testid="code-prop-chat-user_prompt"] .cm-editor').waitFor();
    await node(page, "chat_2").click();
    const other = page.getByTestId("code-prop-chat_2-user_prompt");
    await other.waitFor();
    assert.equal(await other.locator(".cm-editor").count(), 0);
    assert.equal(await other.innerText(), "{{ question }}");

    await node(page, "chat_2").click({ button: "right" });
    await item("Duplicate").click();
    await node(page, "chat_3").waitFor();
    await node(page, "chat_3").click({ button: "right" });
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await node(page, "chat_3").waitFor({ state: "detached" });
    assert.deepEqual(await ids(page), ["inputs", "chat", "outputs", "chat_2"]);

    const wire = page.locator(".react-flow__edge").first();
    const count = await page.locator(".react-flow__edge").count();
    await wire.locator(".react-flow__edge-interaction").dispatchEvent("contextmenu", { clientX: 0, clientY: 0 });
    await item("Delete wire").click();
    await page.waitForFunction((n) => document.querySelectorAll(".react-flow__edge").length === n - 1, count);
  }));

test("quick-add with / at the pointer, keyboard only", () =>
  withApp(async (page) => {
    await ready(page);
    await page.mouse.move(500, 650);
    await page.keyboard.press("/");
    const search = page.getByLabel("Add a node");
    await search.waitFor();
    await search.fill("cond");
    await page.keyboard.press("Enter");
    await node(page, "condition").waitFor();
    const box = await node(page, "condition").boundingBox();
    assert.ok(Math.abs(box.x - 500) < 4 && Math.abs(box.y - 650) < 4, `added at ${box.x},${box.y}`);
    assert.equal(await page.getByTestId("quick-add").count(), 0);

    await page.keyboard.press("?");
    await page.getByTestId("shortcut-help").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("shortcut-help").waitFor({ state: "hidden" });
  }));

test("unsaved changes from the last session are offered back; a bad file is refused with its line", () =>
  withApp(
    async (page) => {
      const banner = page.getByTestId("recovery-banner");
      await banner.waitFor();
      assert.match(await banner.innerText(), /Restore unsaved changes to “Recovered”/);
      await banner.getByRole("button", { name: "Restore" }).click();
      await node(page, "only").waitFor();
      await page.getByTestId("dirty-marker").waitFor();

      await page.evaluate(() => { window.__WEFT_MOCK__.flows.dialog = { open: "/flows/broken.weft.yaml", ask: true }; });
      await page.getByTestId("file-open").click();
      await page.getByTestId("canvas-notice").filter({ hasText: "line 4, column 3" }).waitFor();
      assert.match(await page.evaluate(() => window.__WEFT_ASKED__.join("\n")), /“Recovered” has unsaved changes/);
    },
    {
      mock: {
        flows: {
          recovery: {
            path: null,
            saved_at_ms: 1767225600000,
            document: { schema: 1, title: "Recovered", nodes: [{ id: "only", type: "prompt_template", position: { x: 100, y: 100 }, properties: { template: "Hi" } }] },
          },
          files: { "/flows/broken.weft.yaml": "line 4, column 3: did not find expected key" },
        },
      },
    },
  ));

test("a file changed on disk since it was opened is overwritten only when the user says so", () =>
  withApp(
    async (page) => {
      const path = "/flows/shared.weft.yaml";
      await ready(page);
      await page.evaluate((open) => { window.__WEFT_MOCK__.flows.dialog = { open }; }, path);
      await page.getByTestId("file-open").click();
      await node(page, "first").waitFor();
      await dragFromPalette(page, "prompt_template", 420, 150);
      await node(page, "prompt").waitFor();
      // Another program edits the file meanwhile.
      await page.evaluate((p) => { window.__WEFT_FILES__[p].title = "Edited elsewhere"; }, path);

      await page.evaluate(() => { window.__WEFT_MOCK__.flows.dialog.ask = false; });
      await page.getByTestId("file-save").click();
      await page.waitForFunction(() => window.__WEFT_ASKED__.includes("The file changed on disk since you opened it. Overwrite it?"));
      assert.equal(await page.evaluate((p) => window.__WEFT_FILES__[p].title, path), "Edited elsewhere");
      await page.getByTestId("dirty-marker").waitFor();
      assert.deepEqual(await ids(page), ["first", "prompt"]);

      await page.evaluate(() => { window.__WEFT_MOCK__.flows.dialog.ask = true; });
      await page.getByTestId("file-save").click();
      await page.getByTestId("dirty-marker").waitFor({ state: "detached" });
      const saved = await page.evaluate((p) => window.__WEFT_FILES__[p], path);
      assert.deepEqual(saved.nodes.map((n) => n.id), ["first", "prompt"]);
      assert.equal(saved.title, "Shared");
    },
    {
      mock: {
        flows: {
          files: {
            "/flows/shared.weft.yaml": { schema: 1, title: "Shared", nodes: [{ id: "first", type: "prompt_template", position: { x: 100, y: 100 }, properties: { template: "Hi" } }] },
          },
        },
      },
    },
  ));

test("every kind of card measures what the canvas estimated for it before mounting it", () =>
  withApp(async (page) => {
    await ready(page);
    const kinds = ["prompt_template", "chat_completion", "declare_variable", "set_variable", "create_azure_ai_connection", "embeddings", "condition"];
    for (const [i, kind] of kinds.entries()) await dragFromPalette(page, kind, 420 + (i % 4) * 90, 150 + Math.floor(i / 4) * 300);
    // With the sample's inputs, chat and outputs nodes; those two carry the flow's input and output.
    await page.waitForFunction((n) => document.querySelectorAll(".react-flow__node:not(.react-flow__node-note)").length === n, kinds.length + 3);
    const mismatches = await page.evaluate(() => {
      const zoom = new DOMMatrix(getComputedStyle(document.querySelector(".react-flow__viewport")).transform).a;
      const found = [];
      for (const el of document.querySelectorAll(".react-flow__node:not(.react-flow__node-note)")) {
        const id = el.getAttribute("data-id");
        const estimate = window.__WEFT_PROBE__.cardGeometry(id);
        const box = el.getBoundingClientRect();
        const near = (a, b) => Math.abs(a - b) < 0.6;
        if (!near(box.width / zoom, estimate.width) || !near(box.height / zoom, estimate.height))
          found.push(`${id}: ${box.width / zoom}×${box.height / zoom}, estimated ${estimate.width}×${estimate.height}`);
        const handles = el.querySelectorAll(".react-flow__handle");
        if (handles.length !== estimate.handles.length) found.push(`${id}: ${handles.length} handles, estimated ${estimate.handles.length}`);
        for (const h of handles) {
          const want = estimate.handles.find((e) => e.id === h.getAttribute("data-handleid"));
          const r = h.getBoundingClientRect();
          const [x, y] = [(r.left - box.left) / zoom, (r.top - box.top) / zoom];
          if (!want || !near(x, want.x) || !near(y, want.y)) found.push(`${id}.${h.getAttribute("data-handleid")}: at ${x},${y}, estimated ${want?.x},${want?.y}`);
        }
      }
      return found;
    });
    assert.deepEqual(mismatches, []);
  }));
