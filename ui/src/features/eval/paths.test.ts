import { expect, it } from "vitest";

import { evalPathFor, fileName, resolveFrom, relativeTo } from "./paths";

it("reads an eval file's paths from its own folder and writes them back relative to it", () => {
  expect(resolveFrom("/flows/chat.eval.yaml", "data/q.jsonl")).toBe("/flows/data/q.jsonl");
  expect(resolveFrom("/flows/evals/chat.eval.yaml", "../chat.weft.yaml")).toBe("/flows/chat.weft.yaml");
  expect(resolveFrom("/flows/chat.eval.yaml", "./q.csv")).toBe("/flows/q.csv");
  expect(resolveFrom("/flows/chat.eval.yaml", "/data/q.csv")).toBe("/data/q.csv");
  expect(resolveFrom("C:\\flows\\chat.eval.yaml", "q.csv")).toBe("C:\\flows\\q.csv");
  expect(relativeTo("/flows/chat.eval.yaml", "/flows/data/q.jsonl")).toBe("data/q.jsonl");
  expect(relativeTo("/flows/chat.eval.yaml", "/elsewhere/q.jsonl")).toBe("/elsewhere/q.jsonl");
  expect(relativeTo("/flows/chat.eval.yaml", "/flowsx/q.jsonl")).toBe("/flowsx/q.jsonl");
  expect(evalPathFor("/flows/chat.weft.yaml")).toBe("/flows/chat.eval.yaml");
  expect(fileName("C:\\flows\\chat.weft.yaml")).toBe("chat.weft.yaml");
});
