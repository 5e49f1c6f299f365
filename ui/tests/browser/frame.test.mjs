import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

test("the editor frame renders with its canvas, panels, the sample flow and Test run", () =>
  withApp(async (page) => {
    await page.locator('[data-testid="canvas"] .react-flow__renderer').waitFor();
    for (const selector of [".react-flow__minimap", ".react-flow__background", ".react-flow__controls-fitview"]) {
      assert.equal(await page.locator(selector).count(), 1, selector);
    }
    // First launch opens the sample flow; with nothing selected the panel edits the flow itself.
    await page.locator('.react-flow__node[data-id="chat"]').waitFor();
    assert.match(await page.getByLabel("Node palette").innerText(), /Inputs \/ Outputs[\s\S]*Chat completion[\s\S]*Condition/);
    assert.match(await page.getByLabel("Properties").innerText(), /^FLOW\b[\s\S]*Inputs[\s\S]*Outputs/);
    assert.equal(await page.getByTestId("flow-title").innerText(), "Chat");
    assert.equal(await page.getByTestId("test-run").isDisabled(), false, "the sample flow can be run");

    const viewport = page.locator(".react-flow__viewport");
    const before = await viewport.getAttribute("style");
    await page.locator(".react-flow__controls-zoomin").click();
    await page.waitForFunction((b) => document.querySelector(".react-flow__viewport")?.getAttribute("style") !== b, before);
    assert.match(await viewport.getAttribute("style"), /scale\((?!1\))/);
    await screenshot(page, "frame.png");
    // The theme follows the system; the dark one is checked by eye from this shot.
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "frame-dark.png");
  }));

test("Diagnostics shows the store and a working keychain, and closes with Escape", () =>
  withApp(async (page) => {
    await page.getByTestId("open-diagnostics").click();
    const dialog = page.getByTestId("diagnostics");
    await dialog.waitFor();
    await page.getByTestId("diag-keychain-status").filter({ hasText: /^ok/ }).waitFor();
    assert.equal(await page.getByTestId("diag-schema-version").innerText(), "v3 of 3");
    assert.match(await page.getByTestId("diag-keychain-status").innerText(), /^ok — round-trip in 3\.2 ms$/);
    assert.equal(await page.getByTestId("diag-keychain-backend").innerText(), "Secret Service (D-Bus)");
    assert.equal(await page.getByTestId("diag-owner-only").innerText(), "yes");
    assert.equal(await dialog.getAttribute("aria-labelledby"), "diag-title");
    await screenshot(page, "diagnostics.png");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  }));

test("Diagnostics shows a keychain failure with its fix", () =>
  withApp(
    async (page) => {
      await page.getByTestId("open-diagnostics").click();
      const status = page.getByTestId("diag-keychain-status");
      await status.filter({ hasText: /^failed/ }).waitFor();
      assert.match(await status.innerText(), /start GNOME Keyring and unlock it/);
      assert.match(await status.getAttribute("class"), /failed/);
      await screenshot(page, "diagnostics-keychain-failed.png");
    },
    { mock: { keychainFails: true } },
  ));

test("Diagnostics shows the command's own error, and Run again retries", () =>
  withApp(
    async (page) => {
      await page.getByTestId("open-diagnostics").click();
      const error = page.getByTestId("diag-error");
      await error.waitFor();
      assert.match(await error.innerText(), /written by a newer Weft \(schema version 4; this build knows up to 3\)/);
      assert.equal(await page.getByTestId("diag-keychain-status").count(), 0, "no half report beside the error");
      await screenshot(page, "diagnostics-error.png");

      await page.evaluate(() => { window.__WEFT_MOCK__.diagnosticsFails = false; });
      await page.getByRole("button", { name: "Run again" }).click();
      await page.getByTestId("diag-keychain-status").filter({ hasText: /^ok/ }).waitFor();
      assert.equal(await error.count(), 0);
      await page.getByRole("button", { name: "Close", exact: true }).click();
      await page.getByTestId("diagnostics").waitFor({ state: "hidden" });
    },
    { mock: { diagnosticsFails: true } },
  ));
