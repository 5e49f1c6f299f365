import { describe, expect, it } from "vitest";

import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import { KEEP_SECRET, draftFromView, emptyDraft, problemsByField, toInput } from "./form";

const foundry: KindSpec = {
  kind: "azure_ai",
  label: "Azure AI Foundry",
  description: "",
  fields: [
    { key: "endpoint", label: "Endpoint", input: "url", required: true, default: null, placeholder: "", help: "" },
    { key: "api_key", label: "API key", input: "secret", required: true, default: null, placeholder: "", help: "" },
    { key: "api_version", label: "API version", input: "text", required: false, default: "2024-05-01-preview", placeholder: "", help: "" },
  ],
};
const custom: KindSpec = { kind: "custom", label: "Custom", description: "", fields: [] };

const stored: ConnectionView = {
  id: "id-1",
  name: "azure-ai",
  type: "azure_ai",
  config: { endpoint: "https://r.services.ai.azure.com/models", api_version: "2024-05-01-preview" },
  secrets: { api_key: "******" },
  createdAt: "2026-11-23T04:00:00Z",
  updatedAt: "2026-11-23T04:00:00Z",
};

describe("connection form", () => {
  it("starts a new connection with defaults and an empty secret to type", () => {
    const draft = emptyDraft(foundry);
    expect(draft.config).toEqual({ endpoint: "", api_version: "2024-05-01-preview" });
    expect(draft.secrets.api_key).toEqual({ stored: false, replacing: true, value: "" });
  });

  it("keeps a stored secret it was never shown, unless the user replaces it", () => {
    const draft = draftFromView(stored, foundry);
    expect(draft.original).toBe("azure-ai");
    expect(toInput(draft).secrets).toEqual({ api_key: KEEP_SECRET });

    draft.secrets.api_key = { stored: true, replacing: true, value: "new-key" };
    expect(toInput(draft).secrets).toEqual({ api_key: "new-key" });
  });

  it("sends a new connection's secret and leaves out blank optional fields", () => {
    const draft = emptyDraft(foundry);
    draft.name = "azure-ai";
    draft.config.endpoint = "https://r.services.ai.azure.com/models";
    draft.config.api_version = " ";
    draft.secrets.api_key = { stored: false, replacing: true, value: "k" };
    expect(toInput(draft)).toEqual({
      name: "azure-ai",
      type: "azure_ai",
      config: { endpoint: "https://r.services.ai.azure.com/models" },
      secrets: { api_key: "k" },
    });
  });

  it("splits custom rows into plain and secret maps, keeping stored secrets", () => {
    const view: ConnectionView = { ...stored, type: "custom", config: { region: "eu" }, secrets: { token: "******" } };
    const draft = draftFromView(view, custom);
    expect(draft.rows.map((row) => [row.key, row.secret, row.stored])).toEqual([
      ["region", false, false],
      ["token", true, true],
    ]);
    draft.rows.push({ id: 99, key: " pass ", value: "p", secret: true, stored: false });
    draft.rows.push({ id: 100, key: "", value: "ignored", secret: false, stored: false });
    expect(toInput(draft)).toMatchObject({
      config: { region: "eu" },
      secrets: { token: KEEP_SECRET, pass: "p" },
    });
  });

  it("groups problems by field", () => {
    expect(
      problemsByField([
        { field: "endpoint", message: "a" },
        { field: null, message: "b" },
        { field: "endpoint", message: "c" },
      ]),
    ).toEqual({ endpoint: ["a", "c"], "": ["b"] });
  });
});
