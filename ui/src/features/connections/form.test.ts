import { describe, expect, it } from "vitest";

import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { FieldSpec } from "../../ipc/generated/FieldSpec";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import { KEEP_SECRET, draftFromView, emptyDraft, problemsByField, shownFields, toInput } from "./form";

const field = (key: string, input: FieldSpec["input"], extra: Partial<FieldSpec> = {}): FieldSpec => ({
  key,
  label: key,
  input,
  required: false,
  default: null,
  placeholder: "",
  help: "",
  choices: [],
  shownWhen: null,
  ...extra,
});
// The shape of Rust's azure_ai spec: the key belongs to `auth_mode: key`, the scope to Entra ID,
// the API version to the /models API.
const foundry: KindSpec = {
  kind: "azure_ai",
  label: "Azure AI Foundry",
  description: "",
  fields: [
    field("endpoint", "url", { required: true }),
    field("api", "choice", {
      default: "v1",
      choices: [
        { value: "v1", label: "OpenAI v1 API" },
        { value: "model_inference", label: "Azure AI Model Inference API" },
      ],
    }),
    field("auth_mode", "choice", {
      default: "key",
      choices: [
        { value: "key", label: "API key" },
        { value: "meid_token", label: "Microsoft Entra ID" },
      ],
    }),
    field("api_key", "secret", { required: true, shownWhen: { field: "auth_mode", equals: "key" } }),
    field("token_scope", "text", { shownWhen: { field: "auth_mode", equals: "meid_token" } }),
    field("api_version", "text", { default: "2024-05-01-preview", shownWhen: { field: "api", equals: "model_inference" } }),
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
    expect(draft.config).toEqual({
      endpoint: "",
      api: "v1",
      auth_mode: "key",
      token_scope: "",
      api_version: "2024-05-01-preview",
    });
    expect(draft.secrets.api_key).toEqual({ stored: false, replacing: true, value: "" });
  });

  it("keeps a stored secret it was never shown, unless the user replaces it", () => {
    const draft = draftFromView(stored, foundry);
    expect(draft.original).toBe("azure-ai");
    expect(toInput(foundry, draft).secrets).toEqual({ api_key: KEEP_SECRET });

    draft.secrets.api_key = { stored: true, replacing: true, value: "new-key" };
    expect(toInput(foundry, draft).secrets).toEqual({ api_key: "new-key" });
  });

  it("sends a new connection's secret and leaves out blank optional fields", () => {
    const draft = emptyDraft(foundry);
    draft.name = "azure-ai";
    draft.config.endpoint = "https://r.services.ai.azure.com";
    draft.config.api = "model_inference";
    draft.config.api_version = " ";
    draft.secrets.api_key = { stored: false, replacing: true, value: "k" };
    expect(toInput(foundry, draft)).toEqual({
      name: "azure-ai",
      type: "azure_ai",
      config: { endpoint: "https://r.services.ai.azure.com", api: "model_inference", auth_mode: "key" },
      secrets: { api_key: "k" },
    });
  });

  it("shows the key only with an API key, the scope only with Entra ID, the API version only on /models", () => {
    const keys = (config: Record<string, string>) =>
      shownFields(foundry, { ...emptyDraft(foundry), config }).map((f) => f.key);
    expect(keys({})).toEqual(["endpoint", "api", "auth_mode", "api_key"]);
    // Values match as validation matches them: trimmed, any case.
    expect(keys({ auth_mode: " MEID_TOKEN ", api: "model_inference" })).toEqual([
      "endpoint",
      "api",
      "auth_mode",
      "token_scope",
      "api_version",
    ]);
    // A choice left blank falls back to its default.
    expect(keys({ auth_mode: " ", api: "" })).toEqual(["endpoint", "api", "auth_mode", "api_key"]);
  });

  it("sends no key for a Microsoft Entra ID connection, not even a stored one, and no hidden field", () => {
    const draft = draftFromView(stored, foundry);
    draft.config.auth_mode = "meid_token";
    draft.config.token_scope = "https://cognitiveservices.azure.com/.default";
    expect(toInput(foundry, draft)).toEqual({
      name: "azure-ai",
      type: "azure_ai",
      // The stored api_version belongs to the /models API, which this connection no longer calls.
      config: {
        endpoint: "https://r.services.ai.azure.com/models",
        api: "v1",
        auth_mode: "meid_token",
        token_scope: "https://cognitiveservices.azure.com/.default",
      },
      secrets: {},
    });
    // A key typed before switching to Entra ID stays in the form, in case the user switches back,
    // but is not sent.
    const typed = emptyDraft(foundry);
    typed.secrets.api_key = { stored: false, replacing: true, value: "typed-key" };
    typed.config.auth_mode = "meid_token";
    expect(toInput(foundry, typed).secrets).toEqual({});
    typed.config.auth_mode = "key";
    expect(toInput(foundry, typed).secrets).toEqual({ api_key: "typed-key" });
  });

  it("reads a connection stored before api and auth_mode existed as v1 with a key", () => {
    const draft = draftFromView(stored, foundry);
    expect(draft.config.api).toBe("v1");
    expect(draft.config.auth_mode).toBe("key");
    expect(shownFields(foundry, draft).map((f) => f.key)).toContain("api_key");
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
    expect(toInput(custom, draft)).toMatchObject({
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
