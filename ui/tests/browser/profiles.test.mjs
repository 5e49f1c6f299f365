import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

const active = (page) => page.getByTestId("profile-active");
const choice = (page, name) => page.getByTestId(name === null ? "profile-choice-none" : `profile-choice-${name}`);

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
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "profile-choice-none");
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
