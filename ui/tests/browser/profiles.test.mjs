import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const active = (page) => page.getByTestId("profile-active");
const choice = (page, name) => page.getByTestId(name === null ? "profile-none" : `profile-choice-${name}`);

/** The sample flow is on the canvas and its connection exists, so it validates. */
async function sampleReady(page) {
  await page.locator('.react-flow__node[data-id="chat"]').waitFor();
  await page.evaluate(() =>
    window.__TAURI_INTERNALS__.invoke("create_connection", {
      input: { name: "azure-ai", type: "azure_ai", config: { endpoint: "https://res.services.ai.azure.com" }, secrets: { api_key: "k" } },
    }),
  );
}

async function testRun(page) {
  await page.getByTestId("test-run").click();
  await page.getByTestId("run-inputs").waitFor();
  await page.getByTestId("run-inputs-submit").click();
  await page.locator('[data-testid="run-badge-chat"][data-phase="succeeded"]').waitFor();
}

async function openMenu(page) {
  await page.getByTestId("profile-button").click();
  await page.getByTestId("profile-menu").waitFor();
}

test("create prod, switch to it, a Test run records it, switch back, delete it", () =>
  withApp(
    async (page) => {
      await sampleReady(page);
      assert.equal(await active(page).innerText(), "No profile");

      // A name the store refuses: its message shows under the field, and the dialog stays.
      await openMenu(page);
      assert.equal(await choice(page, null).getAttribute("aria-checked"), "true");
      assert.equal(await page.getByTestId("profile-delete").isDisabled(), true, "nothing to delete yet");
      await page.getByTestId("profile-new").click();
      assert.equal(await page.getByTestId("profile-menu").count(), 0, "the menu closes when the dialog opens");
      await page.getByTestId("profile-name").fill("prod/eu");
      await page.getByTestId("profile-create").click();
      await page.getByTestId("profile-name-error").waitFor();
      assert.equal(
        await page.getByTestId("profile-name-error").innerText(),
        "`prod/eu` is not a valid profile name: use 1 to 32 letters, digits, `-`, `_` or `.`",
      );
      assert.equal(await page.getByTestId("profile-name").getAttribute("aria-invalid"), "true");
      await page.getByTestId("profile-name").fill("prod");
      await page.getByTestId("profile-create").click();
      await page.getByTestId("profile-dialog").waitFor({ state: "hidden" });
      assert.equal(await page.getByTestId("profile-notice").innerText(), "Created profile prod");
      assert.equal(await active(page).innerText(), "No profile", "creating a profile does not switch to it");

      // Keyboard: the menu opens on the checked choice, arrows move, Escape closes back to the button.
      await page.getByTestId("profile-button").focus();
      await page.keyboard.press("ArrowDown");
      await page.getByTestId("profile-menu").waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "profile-none");
      await page.keyboard.press("ArrowDown");
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "profile-choice-prod");
      await page.keyboard.press("Escape");
      await page.getByTestId("profile-menu").waitFor({ state: "hidden" });
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "profile-button");
      assert.equal(await active(page).innerText(), "No profile", "Escape chooses nothing");

      // Enter on a choice switches to it.
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector('[data-testid="profile-active"]')?.textContent === "prod");
      assert.match(await page.getByTestId("profile-button").innerText(), /^Profile:\s*prod/);
      assert.equal(await page.getByTestId("profile-notice").innerText(), "Test runs now use profile prod");
      assert.equal(await page.evaluate(() => window.__TAURI_INTERNALS__.invoke("active_profile")), "prod");
      await openMenu(page);
      assert.equal(await choice(page, "prod").getAttribute("aria-checked"), "true");
      assert.equal(await choice(page, null).getAttribute("aria-checked"), "false");
      await screenshot(page, "profile-menu.png");
      await page.keyboard.press("Escape");

      await testRun(page);
      assert.equal(await page.getByTestId("run-profile").innerText(), "Profile prod");
      await page.getByTestId("run-tab-history").click();
      await page.getByTestId("history-item").first().waitFor();
      assert.equal(await page.getByTestId("history-profile").first().innerText(), "prod");

      // Back to no profile: the next run has none.
      await openMenu(page);
      await choice(page, null).click();
      await page.waitForFunction(() => document.querySelector('[data-testid="profile-active"]')?.textContent === "No profile");
      assert.equal(await page.getByTestId("profile-notice").innerText(), "Test runs now use no profile");
      await testRun(page);
      await page.getByTestId("run-tab-run").click();
      assert.equal(await page.getByTestId("run-profile").count(), 0);
      await page.getByTestId("run-tab-history").click();
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByTestId("history-item").nth(1).waitFor();
      const profiles = await page.getByTestId("history-profile").allInnerTexts();
      assert.deepEqual(profiles, ["none", "prod"], "newest first");

      // Deleting says what goes with the profile.
      await openMenu(page);
      await page.getByTestId("profile-delete").click();
      await page.getByTestId("profile-dialog").waitFor();
      assert.equal(await page.getByTestId("profile-delete-name").inputValue(), "prod");
      assert.match(await page.getByTestId("profile-delete-warning").innerText(), /removes the connection values it sets .*and their keychain entries/);
      await page.getByTestId("profile-delete-confirm").click();
      await page.getByTestId("profile-dialog").waitFor({ state: "hidden" });
      assert.equal(await page.getByTestId("profile-notice").innerText(), "Deleted profile prod");
      assert.deepEqual(await page.evaluate(() => window.__TAURI_INTERNALS__.invoke("list_profiles")), []);
      await openMenu(page);
      assert.equal(await choice(page, "prod").count(), 0);
    },
    { mock: { run: { tokenDelayMs: 5 } } },
  ));

test("the menu rereads the profiles when it opens; deleting the active one returns to no profile", () =>
  withApp(async (page) => {
    await page.getByTestId("profile-button").waitFor();
    // As another window (or a script) would change them while the app runs.
    await page.evaluate(async () => {
      await window.__TAURI_INTERNALS__.invoke("create_profile", { name: "dev" });
      await window.__TAURI_INTERNALS__.invoke("set_active_profile", { name: "dev" });
    });
    assert.equal(await active(page).innerText(), "No profile");
    await openMenu(page);
    assert.equal(await choice(page, "dev").getAttribute("aria-checked"), "true");
    assert.equal(await active(page).innerText(), "dev");

    await page.getByTestId("profile-delete").click();
    assert.match(await page.getByTestId("profile-delete-warning").innerText(), /Test runs go back to no profile\.$/);
    await page.getByTestId("profile-delete-confirm").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="profile-active"]')?.textContent === "No profile");
    assert.equal(await page.evaluate(() => window.__TAURI_INTERNALS__.invoke("active_profile")), null);
  }));

test("the Connections manager edits what prod changes in a connection and shows it in effect there", () =>
  withApp(async (page) => {
    const DEV_KEY = "sk-browser-dev-5e21";
    const PROD_KEY = "sk-browser-prod-77b0";
    await page.getByTestId("profile-button").waitFor();
    await page.evaluate(async (key) => {
      await window.__TAURI_INTERNALS__.invoke("create_connection", {
        input: { name: "azure-ai", type: "azure_ai", config: { endpoint: "https://dev.services.ai.azure.com" }, secrets: { api_key: key } },
      });
      await window.__TAURI_INTERNALS__.invoke("create_profile", { name: "prod" });
    }, DEV_KEY);
    await page.getByTestId("open-connections").click();
    await page.getByTestId("connections-manager").waitFor();
    await page.getByTestId("conn-save").waitFor();

    await page.getByTestId("values-for").selectOption("prod");
    await page.getByTestId("profile-values").waitFor();
    assert.equal(await page.getByTestId("conn-save").count(), 0, "the connection's own form is replaced");
    assert.equal(await page.getByTestId("pv-own-endpoint").innerText(), "the connection’s: https://dev.services.ai.azure.com");
    assert.equal(await page.getByTestId("pv-own-api_key").innerText(), "the connection’s: •••••• (stored)");

    // An emptied field: the Rust side's message, under it.
    await page.getByTestId("pv-set-endpoint").check();
    assert.equal(await page.getByTestId("pv-field-endpoint").inputValue(), "https://dev.services.ai.azure.com", "starts from the connection's value");
    await page.getByTestId("pv-field-endpoint").fill("");
    await page.getByTestId("pv-save").click();
    await page.getByTestId("pv-problem-endpoint").waitFor();
    assert.equal(
      await page.getByTestId("pv-problem-endpoint").innerText(),
      "`endpoint` needs a value in profile `prod`; leave it out to use the connection's own",
    );

    await page.getByTestId("pv-field-endpoint").fill("https://prod.services.ai.azure.com/");
    await page.getByTestId("pv-set-api_key").check();
    await page.getByTestId("conn-secret-api_key").fill(PROD_KEY);
    await page.getByTestId("pv-save").click();
    await page.getByTestId("pv-saved").waitFor();
    const sent = await page.evaluate(() => window.__WEFT_OVERRIDE_INPUTS__.at(-1));
    assert.deepEqual(sent, {
      name: "azure-ai",
      profile: "prod",
      input: { config: { endpoint: "https://prod.services.ai.azure.com/" }, secrets: { api_key: PROD_KEY } },
    });
    // In effect under prod: its endpoint and key, the rest from the connection; no key anywhere.
    assert.match(await page.getByTestId("pv-effective-endpoint").innerText(), /https:\/\/prod\.services\.ai\.azure\.com\s+prod$/);
    assert.match(await page.getByTestId("pv-effective-api_key").innerText(), /••••••\s+prod$/);
    assert.match(await page.getByTestId("pv-effective-api").innerText(), /v1\s+connection$/);
    await page.getByTestId("conn-secret-replace-api_key").waitFor();
    const html = await page.content();
    assert.ok(!html.includes(PROD_KEY) && !html.includes(DEV_KEY), "a key is in the DOM");
    await screenshot(page, "profile-values.png");

    // Saving again keeps the stored key without sending it; the list counts the override.
    await page.getByTestId("pv-save").click();
    await page.waitForFunction(() => window.__WEFT_OVERRIDE_INPUTS__.length === 3);
    assert.deepEqual((await page.evaluate(() => window.__WEFT_OVERRIDE_INPUTS__.at(-1))).input.secrets, { api_key: "******" });
    const [listed] = await page.evaluate(() => window.__TAURI_INTERNALS__.invoke("list_profiles"));
    assert.equal(listed.overrides, 1);

    // Back to the connection's own values under prod, and the connection's own form.
    await page.getByTestId("pv-clear").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pv-saved"]')?.textContent === "prod now uses the connection as saved.");
    assert.match(await page.getByTestId("pv-effective-endpoint").innerText(), /dev\.services\.ai\.azure\.com\s+connection$/);
    assert.equal(await page.getByTestId("pv-set-endpoint").isChecked(), false);
    await page.getByTestId("values-for").selectOption("");
    await page.getByTestId("conn-save").waitFor();
  }));
