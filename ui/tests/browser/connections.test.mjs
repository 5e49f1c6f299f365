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

/** Picks a choice field's value by its label, as a user clicks a segment. */
async function choose(page, key, label) {
  await page.getByTestId(`conn-choice-${key}`).getByText(label, { exact: true }).click();
}

/** What the form last sent to Rust (the mock records every create and update). */
const lastInput = (page) => page.evaluate(() => window.__WEFT_CONNECTION_INPUTS__.at(-1));

test("create a connection: the key is write-only and never shown again", () =>
  withApp(async (page) => {
    await openManager(page);
    assert.match(await page.getByTestId("connections-manager").innerText(), /No connections yet/);
    await createFoundry(page, "azure-ai", "https://res.services.ai.azure.com");

    const item = page.getByTestId("connection-item-azure-ai");
    await item.waitFor();
    assert.match(await item.innerText(), /AI\s+azure-ai\s+https:\/\/res\.services\.ai\.azure\.com/);
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
    assert.equal(await result.innerText(), "Connected in 42 ms through the OpenAI v1 API · gpt-4o-mini-2024-07-18");

    await page.getByTestId("conn-test-deployment").fill("missing");
    await button.click();
    await result.filter({ hasText: "HTTP 404" }).waitFor();
    assert.match(await result.getAttribute("class"), /banner-error/);
  }));

test("a Foundry connection calls v1 by default and says why; pinning /models brings its API version", () =>
  withApp(async (page) => {
    await openManager(page);
    await page.getByTestId("new-connection-type").selectOption("azure_ai");
    await page.getByTestId("new-connection").click();
    assert.equal(await page.getByTestId("conn-choice-api-v1").isChecked(), true);
    const apiField = page.getByTestId("conn-choice-api").locator("xpath=..");
    assert.match(await apiField.innerText(), /Azure retired the \/models API on 2026-08-26 and v1 serves every deployment/);
    assert.equal(await page.getByTestId("conn-field-api_version").count(), 0, "v1 takes no api-version");

    await choose(page, "api", "Azure AI Model Inference API (/models, retired)");
    await page.getByTestId("conn-field-api_version").waitFor();
    await choose(page, "api", "OpenAI v1 API");
    await page.getByTestId("conn-field-api_version").waitFor({ state: "detached" });

    await page.getByTestId("conn-name").fill("foundry-v1");
    await page.getByTestId("conn-field-endpoint").fill("https://res.services.ai.azure.com/openai/v1");
    await page.getByTestId("conn-secret-api_key").fill(SECRET);
    await page.getByTestId("conn-save").click();
    await page.getByTestId("conn-saved").waitFor();
    assert.deepEqual(await lastInput(page), {
      name: "foundry-v1",
      type: "azure_ai",
      config: { endpoint: "https://res.services.ai.azure.com/openai/v1", api: "v1", auth_mode: "key" },
      secrets: { api_key: SECRET },
    });
    await page.getByTestId("conn-secret-replace-api_key").waitFor();
  }));

test("with Microsoft Entra ID the key field goes away, no key is sent and none is stored", () =>
  withApp(async (page) => {
    await openManager(page);
    await page.getByTestId("new-connection-type").selectOption("azure_ai");
    await page.getByTestId("new-connection").click();
    await page.getByTestId("conn-secret-api_key").fill(SECRET);
    assert.equal(await page.getByTestId("conn-field-token_scope").count(), 0);

    await choose(page, "auth_mode", "Microsoft Entra ID");
    await page.getByTestId("conn-secret-api_key").waitFor({ state: "detached" });
    await page.getByTestId("conn-field-token_scope").waitFor();
    assert.equal(await page.getByTestId("conn-field-token_scope").getAttribute("placeholder"), "https://ai.azure.com/.default");
    assert.match(await page.getByTestId("conn-choice-auth_mode").locator("xpath=..").innerText(), /az login/);

    await page.getByTestId("conn-name").fill("foundry-entra");
    await page.getByTestId("conn-field-endpoint").fill("https://res.services.ai.azure.com");
    await page.getByTestId("conn-save").click();
    await page.getByTestId("conn-saved").waitFor();
    // The key typed before the switch stayed in the form only.
    assert.deepEqual(await lastInput(page), {
      name: "foundry-entra",
      type: "azure_ai",
      config: { endpoint: "https://res.services.ai.azure.com", api: "v1", auth_mode: "meid_token" },
      secrets: {},
    });
    assert.ok(!(await page.content()).includes(SECRET), "the typed key is still in the DOM");

    // The saved connection reopens as Entra ID, with no key to replace.
    await page.getByTestId("connection-item-foundry-entra").click();
    assert.equal(await page.getByTestId("conn-choice-auth_mode-meid_token").isChecked(), true);
    assert.equal(await page.getByTestId("conn-secret-replace-api_key").count(), 0);
    assert.equal(await page.getByTestId("conn-secret-api_key").count(), 0);
    await screenshot(page, "connections-entra.png");

    // Back to a key: the key field returns and is required again.
    await choose(page, "auth_mode", "API key");
    await page.getByTestId("conn-save").click();
    const problem = page.getByTestId("conn-problem-api_key");
    await problem.waitFor();
    assert.equal(await problem.innerText(), "API key is required");
  }));

test("an Azure OpenAI deployment URL on v1 serves every deployment, so its test asks for one", () =>
  withApp(async (page) => {
    await openManager(page);
    await page.getByTestId("new-connection-type").selectOption("azure_open_ai");
    await page.getByTestId("new-connection").click();
    await page.getByTestId("conn-name").fill("aoai");
    await page.getByTestId("conn-field-api_base").fill("https://r.openai.azure.com/openai/deployments/gpt-4o");
    await page.getByTestId("conn-secret-api_key").fill(SECRET);
    await page.getByTestId("conn-save").click();
    await page.getByTestId("conn-saved").waitFor();
    // On the deployments API the URL pins its deployment: nothing to ask.
    await page.getByTestId("conn-test").waitFor();
    assert.equal(await page.getByTestId("conn-test-deployment").count(), 0);

    await choose(page, "api", "OpenAI v1 API (every deployment)");
    await page.getByTestId("conn-field-api_version").waitFor({ state: "detached" });
    await page.getByTestId("conn-save").click();
    await page.getByTestId("conn-saved").waitFor();
    assert.equal((await lastInput(page)).config.api, "v1");
    await page.getByTestId("conn-test-deployment").fill("gpt-4o-mini");
    await page.getByTestId("conn-test").click();
    const result = page.getByTestId("conn-test-result");
    await result.waitFor();
    assert.match(await result.innerText(), /^Connected in 42 ms through the OpenAI v1 API · /);
  }));

/** Creates a keyless Foundry connection through the form. */
async function createEntra(page, name) {
  await page.getByTestId("new-connection-type").selectOption("azure_ai");
  await page.getByTestId("new-connection").click();
  await choose(page, "auth_mode", "Microsoft Entra ID");
  await page.getByTestId("conn-name").fill(name);
  await page.getByTestId("conn-field-endpoint").fill("https://res.services.ai.azure.com");
  await page.getByTestId("conn-save").click();
  await page.getByTestId("conn-saved").waitFor();
}

test("Diagnostics shows the Entra ID sign-in: credential, tenant, expiry, or the command to run", () =>
  withApp(async (page) => {
    await page.getByTestId("open-diagnostics").click();
    await page.getByTestId("diag-keychain-status").filter({ hasText: /^ok/ }).waitFor();
    assert.equal(await page.getByTestId("diag-entra-0-status").count(), 0, "no Entra section without an Entra connection");
    await page.keyboard.press("Escape");

    await openManager(page);
    await createEntra(page, "foundry-entra");
    await page.keyboard.press("Escape");
    await page.getByTestId("open-diagnostics").click();
    const status = page.getByTestId("diag-entra-0-status");
    await status.waitFor();
    assert.equal(await status.innerText(), "ok — Azure CLI");
    assert.equal(await page.getByTestId("diag-entra-0-tenant").innerText(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert.match(await page.getByTestId("diag-entra-0-expires").innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (59|60) min\)$/);
    assert.equal(await page.getByTestId("diag-entra-0-scope").innerText(), "https://ai.azure.com/.default");
    assert.equal(await page.getByTestId("diag-entra-0-connections").innerText(), "foundry-entra");
    await screenshot(page, "diagnostics-entra.png");

    // Signed out: the error names the command, and Run again checks anew.
    await page.evaluate(() => { window.__WEFT_MOCK__.entraSignedOut = true; });
    await page.getByRole("button", { name: "Run again" }).click();
    await status.filter({ hasText: /^failed/ }).waitFor();
    assert.match(await status.innerText(), /not signed in.*run `az login`$/);
    assert.match(await status.getAttribute("class"), /failed/);
    assert.equal(await page.getByTestId("diag-entra-0-tenant").count(), 0);
    await page.keyboard.press("Escape");

    // Test connection says the same.
    await page.getByTestId("open-connections").click();
    await page.getByTestId("conn-test-deployment").fill("gpt-4o-mini");
    await page.getByTestId("conn-test").click();
    const result = page.getByTestId("conn-test-result");
    await result.waitFor();
    assert.match(await result.innerText(), /not signed in.*run `az login`$/);
    assert.match(await result.getAttribute("class"), /banner-error/);
  }));
