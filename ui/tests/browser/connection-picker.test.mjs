// The node's Connection picker offers the saved connections of the types its kind takes
// (nodeKinds.json: the connection property's editor types), flags a connection of another type, and its "New
// connection…" opens the form on the node's type and gives the node the connection saved there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const specs = JSON.parse(readFileSync(new URL("../../src/ipc/generated/nodeKinds.json", import.meta.url), "utf8"));
const typesOf = (kind) => specs.find((s) => s.kind === kind).properties.find((p) => p.key === "connection").editor.types;

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const picker = (page, id) => page.getByTestId(`prop-${id}-connection`);
const options = (page, id) => picker(page, id).locator("option").allInnerTexts();

/** Fills and saves the form the manager shows (a new connection of `kind`). */
async function fillAndSave(page, kind, name) {
  await page.getByTestId("conn-name").fill(name);
  const endpoint = kind === "azure_content_safety" ? "https://res.cognitiveservices.azure.com" : "https://res.services.ai.azure.com";
  await page.getByTestId("conn-field-endpoint").fill(endpoint);
  await page.getByTestId("conn-secret-api_key").fill(`${kind}-browser-test-key`);
  await page.getByTestId("conn-save").click();
  await page.getByTestId(`connection-item-${name}`).waitFor();
}

/** Creates a connection from the top bar's Connections manager and closes it. */
async function create(page, kind, name) {
  await page.getByTestId("open-connections").click();
  await page.getByTestId("connections-manager").waitFor();
  await page.getByTestId("new-connection-type").selectOption(kind);
  await page.getByTestId("new-connection").click();
  await fillAndSave(page, kind, name);
  await page.keyboard.press("Escape");
  await page.getByTestId("connections-manager").waitFor({ state: "hidden" });
}

/** A real HTML5 drag from a palette item to a point on the canvas. */
async function dragFromPalette(page, kind, x, y) {
  const transfer = await page.evaluateHandle(() => new DataTransfer());
  await page.getByTestId(`palette-item-${kind}`).dispatchEvent("dragstart", { dataTransfer: transfer });
  const pane = page.locator(".react-flow__pane");
  await pane.dispatchEvent("dragover", { dataTransfer: transfer, clientX: x, clientY: y });
  await pane.dispatchEvent("drop", { dataTransfer: transfer, clientX: x, clientY: y });
}

test("a node's picker lists only the saved connections of a type its kind takes", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    assert.deepEqual(typesOf("chat_completion"), ["azure_ai", "azure_open_ai", "open_ai", "serverless"]);
    assert.deepEqual(typesOf("content_safety_text"), ["azure_content_safety"]);
    await create(page, "azure_ai", "foundry");
    await create(page, "azure_content_safety", "safety");

    // The sample's chat node names `azure-ai`, which is not saved here: shown, and the rest fit.
    await node(page, "chat").click();
    assert.deepEqual(await options(page, "chat"), ["Choose a connection…", "azure-ai (not saved here)", "foundry · azure_ai", "New connection…"]);

    await dragFromPalette(page, "content_safety_text", 760, 560);
    await node(page, "safety").waitFor();
    assert.deepEqual(await options(page, "safety"), ["Choose a connection…", "safety · azure_content_safety", "New connection…"]);
    await picker(page, "safety").selectOption("safety");
    assert.equal(await picker(page, "safety").inputValue(), "safety");

    // A kind none of whose types is saved says so.
    await dragFromPalette(page, "serp_search", 420, 560);
    await node(page, "web").waitFor();
    assert.deepEqual(await options(page, "web"), ["No saved connection of this type", "New connection…"]);
  }));

test("a connection of another type stays selected with what the node needs", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    // The sample's chat node names `azure-ai`: saved here as a Content Safety resource.
    await create(page, "azure_content_safety", "azure-ai");
    await node(page, "chat").click();
    const chat = picker(page, "chat");
    assert.equal(await chat.inputValue(), "azure-ai");
    assert.equal(await chat.locator("option:checked").innerText(), "azure-ai · azure_content_safety");
    assert.equal(await chat.getAttribute("aria-invalid"), "true");
    const error = page.getByTestId("prop-chat-connection-type-error");
    assert.equal(
      await error.innerText(),
      "`azure-ai` is an Azure AI Content Safety connection; this node needs an Azure AI Foundry, Azure OpenAI, OpenAI or Serverless endpoint connection",
    );
    assert.equal(await chat.getAttribute("aria-errormessage"), "prop-chat-connection-type-error");
    await screenshot(page, "connection-picker-wrong-type.png");

    // Creating one that fits and picking it clears the error.
    await create(page, "azure_ai", "foundry");
    await chat.selectOption("foundry");
    await error.waitFor({ state: "detached" });
    // (after the validator, which runs when the edit settles, has seen it too)
    await page.locator('[data-testid="prop-chat-connection"][aria-invalid="false"]').waitFor();
  }));

test("New connection… opens the form on the node's type, and the connection saved becomes the node's", () =>
  withApp(async (page) => {
    await node(page, "chat").waitFor();
    await dragFromPalette(page, "content_safety_text", 760, 560);
    await node(page, "safety").waitFor();
    await picker(page, "safety").selectOption({ label: "New connection…" });

    const manager = page.getByTestId("connections-manager");
    await manager.waitFor();
    await manager.getByRole("heading", { name: "New Azure AI Content Safety connection" }).waitFor();
    assert.match(await page.getByTestId("conn-for-node").innerText(), /becomes the Connection of node safety/);
    const type = page.getByTestId("new-connection-type");
    assert.deepEqual(await type.locator("option").evaluateAll((os) => os.map((o) => o.value)), ["azure_content_safety"]);
    await fillAndSave(page, "azure_content_safety", "moderation");
    assert.equal(await page.getByTestId("conn-picked").innerText(), "Chosen as the Connection of node safety.");
    // Picked once: the manager is the plain one again.
    await page.getByTestId("conn-for-node").waitFor({ state: "detached" });
    assert.ok((await type.locator("option").count()) > 1, "every type again");
    await page.keyboard.press("Escape");
    await manager.waitFor({ state: "hidden" });

    assert.equal(await picker(page, "safety").inputValue(), "moderation");
    await node(page, "safety").locator(".fnode-summary dd", { hasText: /^moderation$/ }).waitFor();
    await page.getByTestId("dirty-marker").waitFor();

    // A kind that takes several types: the first preset, the choice limited to them.
    await node(page, "chat").click();
    await picker(page, "chat").selectOption({ label: "New connection…" });
    await manager.getByRole("heading", { name: "New Azure AI Foundry connection" }).waitFor();
    assert.deepEqual(await type.locator("option").evaluateAll((os) => os.map((o) => o.value)), typesOf("chat_completion"));
    await type.selectOption("open_ai");
    await page.getByTestId("new-connection").click();
    await manager.getByRole("heading", { name: "New OpenAI connection" }).waitFor();
    await page.getByTestId("conn-name").fill("oai");
    await page.getByTestId("conn-secret-api_key").fill("sk-browser-test-key");
    await page.getByTestId("conn-save").click();
    await page.getByTestId("conn-picked").waitFor();
    await page.keyboard.press("Escape");
    await manager.waitFor({ state: "hidden" });
    assert.equal(await picker(page, "chat").inputValue(), "oai");
    // Closing without saving leaves the node as it was.
    await picker(page, "chat").selectOption({ label: "New connection…" });
    await manager.waitFor();
    await page.keyboard.press("Escape");
    await manager.waitFor({ state: "hidden" });
    assert.equal(await picker(page, "chat").inputValue(), "oai");
  }));
