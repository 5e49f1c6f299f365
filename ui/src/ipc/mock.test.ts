import { expect, it } from "vitest";

import { commandNames } from "./generated/commands";
import { handlers } from "./mock-commands";

it("the browser mock handles exactly the commands Rust registers", () => {
  expect(Object.keys(handlers).sort()).toEqual([...commandNames].sort());
});
