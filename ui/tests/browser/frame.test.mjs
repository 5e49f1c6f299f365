import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, withApp } from "./harness.mjs";

test("the editor frame renders with its canvas, panels and a disabled Test run", () =>
  withApp(async (page) => {
    await page.locator('[data-testid="canvas"] .react-flow__renderer').waitFor();
    for (const selector of [".react-flow__minimap", ".react-flow__background", ".react-flow__controls-fitview"]) {
      assert.equal(await page.locator(selector).count(), 1, selector);
    }
    assert.equal(await page.getByTestId("test-run").isDisabled(), true);
    assert.match(await page.getByLabel("Node palette").innerText(), /Node types appear here/);
    assert.match(await page.getByLabel("Properties").innerText(), /Select a node/);
    assert.equal(await page.getByTestId("flow-title").innerText(), "Untitled flow");

    const viewport = page.locator(".react-flow__viewport");
    const before = await viewport.getAttribute("style");
    await page.locator(".react-flow__controls-zoomin").click();
    await page.waitForFunction((b) => document.querySelector(".react-flow__viewport")?.getAttribute("style") !== b, before);
    assert.match(await viewport.getAttribute("style"), /scale\((?!1\))/);
    await screenshot(page, "frame.png");
  }));

test("Diagnostics shows the store and a working keychain, and closes with Escape", () =>
  withApp(async (page) => {
    await page.getByTestId("open-diagnostics").click();
    const dialog = page.getByTestId("diagnostics");
    await dialog.waitFor();
    await page.getByTestId("diag-keychain-status").filter({ hasText: /^ok/ }).waitFor();
    assert.equal(await page.getByTestId("diag-schema-version").innerText(), "v2 of 2");
    assert.match(await page.getByTestId("diag-keychain-status").innerText(), /^ok — round-trip in 3\.2 ms$/);
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
    },
    { mock: { keychainFails: true } },
  ));
