import { expect, it } from "vitest";

import { newForm } from "./form";
import { evalFlowPath, unsavedFlow } from "./store";

const form = { ...newForm("ask.weft.yaml", "Ask", []), flow: "../ask.weft.yaml" };

it("an eval runs its own flow file, and waits for a save only when the editor holds unsaved changes of that file", () => {
  const opened = { path: "/flows/evals/ask.eval.yaml", form };
  expect(evalFlowPath(opened, "/flows/ask.weft.yaml")).toBe("/flows/ask.weft.yaml");
  expect(unsavedFlow(opened, { path: "/flows/ask.weft.yaml", dirty: false })).toBeNull();
  expect(unsavedFlow(opened, { path: "/flows/ask.weft.yaml", dirty: true })).toMatch(/Save the flow first/);
  // Another flow is open, with changes: they are not the eval's.
  expect(unsavedFlow(opened, { path: "/flows/other.weft.yaml", dirty: true })).toBeNull();
  expect(unsavedFlow(opened, { path: null, dirty: true })).toBeNull();
  // A new eval is of the flow open in the editor, which needs a file.
  const fresh = { path: null, form };
  expect(evalFlowPath(fresh, "/flows/ask.weft.yaml")).toBe("/flows/ask.weft.yaml");
  expect(unsavedFlow(fresh, { path: null, dirty: false })).toMatch(/Save the flow first/);
  expect(evalFlowPath({ path: null, form: null }, "/flows/ask.weft.yaml")).toBeNull();
});
