// The four service node kinds of issue 13 (Content Safety, AI Search, SerpAPI web search, HTTP
// request), each dragged from the palette: its card on the canvas and its property panel, built
// from the kind's spec (nodeKinds.json, which weft-flow regenerates), with the properties
// /work/notes/PARTB.md designs and the option lists of its selects.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const specs = JSON.parse(readFileSync(new URL("../../src/ipc/generated/nodeKinds.json", import.meta.url), "utf8"));

const SENSITIVITY = ["disable", "low_sensitivity", "medium_sensitivity", "high_sensitivity"];
/** What each kind must offer: the node id a first drop gets, the property keys (in the panel's
 * order), the options of its selects and the bounds of its number fields. */
const KINDS = [
  {
    kind: "content_safety_text",
    id: "safety",
    connectionKind: "azure_content_safety",
    props: ["connection", "text", "hate_category", "sexual_category", "self_harm_category", "violence_category", "output_type", "blocklist_names", "halt_on_blocklist_hit", "when"],
    selects: {
      hate_category: SENSITIVITY,
      sexual_category: SENSITIVITY,
      self_harm_category: SENSITIVITY,
      violence_category: SENSITIVITY,
      output_type: ["FourSeverityLevels", "EightSeverityLevels"],
    },
    numbers: {},
  },
  {
    kind: "ai_search",
    id: "search",
    connectionKind: "cognitive_search",
    props: ["connection", "index", "mode", "query", "vector", "vector_field", "embeddings_connection", "embeddings_deployment", "top_k", "select", "filter", "when"],
    selects: { mode: ["keyword", "vector", "hybrid"] },
    numbers: { top_k: { min: "1", max: "1000" } },
  },
  {
    kind: "serp_search",
    id: "web",
    connectionKind: "serp",
    props: ["connection", "query", "engine", "num", "location", "language", "safe", "when"],
    selects: { engine: ["google", "bing"] },
    numbers: { num: { min: "1", max: "100" } },
  },
  {
    kind: "http_request",
    id: "http",
    connectionKind: "custom",
    props: ["connection", "method", "url", "headers", "query", "body", "when"],
    selects: { method: ["GET", "POST", "PUT", "PATCH", "DELETE"] },
    numbers: {},
  },
];

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const panel = (page) => page.getByLabel("Properties");

/** A real HTML5 drag from a palette item to a point on the canvas. */
async function dragFromPalette(page, kind, x, y) {
  const transfer = await page.evaluateHandle(() => new DataTransfer());
  await page.getByTestId(`palette-item-${kind}`).dispatchEvent("dragstart", { dataTransfer: transfer });
  const pane = page.locator(".react-flow__pane");
  await pane.dispatchEvent("dragover", { dataTransfer: transfer, clientX: x, clientY: y });
  await pane.dispatchEvent("drop", { dataTransfer: transfer, clientX: x, clientY: y });
}

/** The labels of the panel's property fields, without the required marker. */
const fieldLabels = (page) =>
  panel(page)
    .locator(".field .field-label")
    .evaluateAll((labels) => labels.map((label) => label.firstChild?.textContent?.trim() ?? ""));

test("each service kind drops from the palette as a card with its properties in the panel", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    // New: only the Inputs and Outputs nodes, so the drops have room and their ids are the stems.
    await page.getByTestId("file-new").click();
    await page.locator(".react-flow__node").nth(2).waitFor({ state: "detached" });

    for (const [index, expected] of KINDS.entries()) {
      const spec = specs.find((s) => s.kind === expected.kind);
      assert.ok(spec, `nodeKinds.json has no ${expected.kind}`);
      assert.equal(spec.id_stem, expected.id, `${expected.kind}'s id stem`);
      assert.deepEqual(spec.properties.map((p) => p.key), expected.props, `${expected.kind}'s properties`);

      const item = page.getByTestId(`palette-item-${expected.kind}`);
      assert.match(await item.innerText(), new RegExp(spec.title.replace(/[()]/g, "\\$&")));
      const at = { x: 420 + (index % 2) * 320, y: 200 + Math.floor(index / 2) * 260 };
      await dragFromPalette(page, expected.kind, at.x, at.y);

      // The card: where it was dropped, with its title and id.
      const card = node(page, expected.id);
      await card.waitFor();
      const box = await card.boundingBox();
      assert.ok(Math.abs(box.x - at.x) < 4 && Math.abs(box.y - at.y) < 4, `${expected.kind} dropped at ${box.x},${box.y}`);
      assert.equal(await card.locator(".fnode-title").textContent(), spec.title);
      assert.match(await card.locator(".fnode-sub").innerText(), new RegExp(`^${expected.id} · `));

      // The panel: the new node is selected, and every property has its field.
      // (textContent: the title is set in capitals by CSS.)
      assert.equal((await panel(page).locator(".panel-title").first().textContent()).trim(), `${spec.icon} ${spec.title}`);
      assert.deepEqual(await fieldLabels(page), ["Title", "Id", ...spec.properties.map((p) => p.label)], `${expected.kind}'s fields`);
      const connection = page.getByTestId(`prop-${expected.id}-connection`);
      assert.equal(await connection.evaluate((el) => el.tagName), "SELECT", "the connection is picked from the saved ones");
      assert.deepEqual(await connection.locator("option").allInnerTexts(), ["No saved connections", "New connection…"]);
      for (const [key, options] of Object.entries(expected.selects)) {
        const values = await page.getByTestId(`prop-${expected.id}-${key}`).locator("option").evaluateAll((os) => os.map((o) => o.value));
        assert.deepEqual(values, ["", ...options], `${expected.kind}.${key}'s options`);
      }
      for (const [key, bounds] of Object.entries(expected.numbers)) {
        const field = page.getByTestId(`prop-${expected.id}-${key}`);
        assert.equal(await field.getAttribute("type"), "number");
        assert.deepEqual({ min: await field.getAttribute("min"), max: await field.getAttribute("max") }, bounds, `${expected.kind}.${key}'s bounds`);
      }
    }
    assert.equal(await page.locator(".react-flow__node").count(), 2 + KINDS.length);
    await screenshot(page, "service-kinds.png");
  }));

test("a saved Content Safety connection is picked in the node's panel and shows on its card", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    await page.getByTestId("open-connections").click();
    await page.getByTestId("connections-manager").waitFor();
    await page.getByTestId("new-connection-type").selectOption("azure_content_safety");
    await page.getByTestId("new-connection").click();
    await page.getByTestId("conn-name").fill("safety");
    await page.getByTestId("conn-field-endpoint").fill("https://res.cognitiveservices.azure.com");
    await page.getByTestId("conn-secret-api_key").fill("cs-browser-test-key");
    await page.getByTestId("conn-save").click();
    await page.getByTestId("connection-item-safety").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("connections-manager").waitFor({ state: "hidden" });

    // The palette's search finds the kind by what it does.
    await page.getByLabel("Search nodes").fill("content safety");
    await dragFromPalette(page, "content_safety_text", 760, 560);
    const card = node(page, "safety");
    await card.waitFor();
    const picker = page.getByTestId("prop-safety-connection");
    await picker.selectOption("safety");
    assert.equal(await picker.inputValue(), "safety");
    await page.getByTestId("prop-safety-violence_category").selectOption("high_sensitivity");
    assert.equal(await page.getByTestId("prop-safety-violence_category").inputValue(), "high_sensitivity");
    // The card's summary names the connection (the kind's summary keys: connection, text).
    assert.deepEqual(specs.find((s) => s.kind === "content_safety_text").summary, ["connection", "text"]);
    await card.locator(".fnode-summary dd", { hasText: /^safety$/ }).waitFor();
    await page.getByTestId("dirty-marker").waitFor();
  }));
