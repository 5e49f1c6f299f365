// Every Weft command the browser-test mock answers, one handler per command of the generated map.
// The `satisfies` makes a command added in Rust a type error here until it is handled; the
// Vitest test beside this file checks the same at run time against the generated name list.
import { batchHandlers } from "./mock-batch";
import { connectionHandlers } from "./mock-connections";
import { evalHandlers } from "./mock-eval";
import { flowHandlers } from "./mock-flows";
import type { Handlers } from "./mock-options";
import { profileHandlers } from "./mock-profiles";
import { runHandlers } from "./mock-run";

export const handlers = {
  ...batchHandlers,
  ...connectionHandlers,
  ...evalHandlers,
  ...flowHandlers,
  ...profileHandlers,
  ...runHandlers,
} satisfies Handlers;

export { pluginHandlers } from "./mock-flows";
