import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const SECRET = "sk-browser-test-93c1";

async function openManager(page) {
  await page.getByTestId("open-connections").click();
  await page.getByTestId("connections-manager").waitFor();
}

async function createFoundry(page, name, endpoint) {
  await page.getByTestId("new-connection-type").selectOption("azure_ai");
  await page.getByTestId("new-connection").click();
  await page.getByTestId("conn-name").fill(name);
  await page.getByTestId("conn-field-endpoint").fill(endpoint);
  await page.getByTestId("conn-secret-api_key").fill(SECRET);
  await page.getByTestId("conn-save").click();
}

test("create a connection: the key is write-only and never shown again", () =>
  withApp(async (page) => {
    await openManager(page);
    assert.match(await page.getByTestId("connections-manager").innerText(), /No connections yet/);
    await createFoundry(page, "azure-ai", "https://res.services.ai.azure.com/models");

    const item = page.getByTestId("connection-item-azure-ai");
    await item.waitFor();
    assert.match(await item.innerText(), /AI\s+azure-ai\s+https:\/\/res\.services\.ai\.azure\.com\/models/);
    // The saved form shows the stored key masked, with Replace; the value is nowhere in the DOM.
    await page.getByTestId("conn-secret-replace-api_key").waitFor();
    assert.equal(await page.getByTestId("conn-secret-api_key").count(), 0);
    assert.ok(!(await page.content()).includes(SECRET), "the secret is in the DOM");
    await screenshot(page, "connections.png");
  }));

test("validation problems show next to the field", () =>
  withApp(async (page) => {
    await openManager(page);
    await createFoundry(page, "aoai", "https://r.openai.azure.com/openai/deployments/gpt-4o");
    const problem = page.getByTestId("conn-problem-endpoint");
    await problem.waitFor();
    assert.match(await problem.innerText(), /use an Azure OpenAI connection/);
    assert.equal(await page.getByTestId("connection-item-aoai").count(), 0);
  }));

test("a locked keychain is reported and nothing is saved", () =>
  withApp(
    async (page) => {
      await openManager(page);
      await createFoundry(page, "azure-ai", "https://res.services.ai.azure.com/models");
      const error = page.getByTestId("conn-error");
      await error.waitFor();
      assert.match(await error.innerText(), /locked; nothing was changed/);
      assert.equal(await page.getByTestId("connection-item-azure-ai").count(), 0);
    },
    { mock: { keychainFails: true } },
  ));

test("search filters, plain http warns, and delete asks first", () =>
  withApp(async (page) => {
    await openManager(page);
    await createFoundry(page, "local-llm", "http://llm.example.com/models");
    await page.getByTestId("conn-warning").waitFor();
    await createFoundry(page, "azure-ai", "https://res.services.ai.azure.com/models");
    await page.getByTestId("connection-item-azure-ai").waitFor();

    await page.getByTestId("connections-search").fill("LOCAL");
    assert.equal(await page.getByTestId("connection-item-azure-ai").count(), 0);
    await page.getByTestId("connection-item-local-llm").click();
    await page.getByTestId("connections-search").fill("");

    await page.getByTestId("conn-delete").click();
    assert.match(await page.getByRole("alertdialog").innerText(), /Delete “local-llm” and its keychain entries\?/);
    await page.getByTestId("conn-delete-confirm").click();
    await page.getByTestId("connection-item-local-llm").waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("connection-item-azure-ai").count(), 1);
  }));

test("Test connection asks for a deployment, then reports success or the service's error", () =>
  withApp(async (page) => {
    await openManager(page);
    await createFoundry(page, "azure-ai", "https://res.services.ai.azure.com/models");
    const button = page.getByTestId("conn-test");
    await button.waitFor();
    assert.equal(await button.isDisabled(), true, "no deployment yet");

    await page.getByTestId("conn-test-deployment").fill("gpt-4o-mini");
    await button.click();
    const result = page.getByTestId("conn-test-result");
    await result.filter({ hasText: "Connected" }).waitFor();
    assert.equal(await result.innerText(), "Connected in 42 ms · gpt-4o-mini-2024-07-18");

    await page.getByTestId("conn-test-deployment").fill("missing");
    await button.click();
    await result.filter({ hasText: "HTTP 404" }).waitFor();
    assert.match(await result.getAttribute("class"), /banner-error/);
  }));
