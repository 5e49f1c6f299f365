import { describe, expect, it } from "vitest";

import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { EffectiveConnectionView } from "../../ipc/generated/EffectiveConnectionView";
import type { FieldSpec } from "../../ipc/generated/FieldSpec";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import { draftFromEffective, overridableFields, shownOverrideFields, toOverrideInput, toggleField } from "./overrides";

const field = (key: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  key,
  label: key,
  input: "text",
  required: false,
  default: null,
  placeholder: "",
  help: "",
  choices: [],
  shownWhen: null,
  ...extra,
});

const azure: KindSpec = {
  kind: "azure_ai",
  label: "Azure AI Foundry",
  description: "",
  fields: [
    field("endpoint", { input: "url", required: true }),
    field("auth_mode", {
      input: "choice",
      default: "key",
      choices: [
        { value: "key", label: "API key" },
        { value: "meid_token", label: "Microsoft Entra ID" },
      ],
    }),
    field("api_key", { input: "secret", required: true, shownWhen: { field: "auth_mode", equals: "key" } }),
    field("token_scope", { shownWhen: { field: "auth_mode", equals: "meid_token" } }),
  ],
};

const base: ConnectionView = {
  id: "c1",
  name: "azure-ai",
  type: "azure_ai",
  config: { endpoint: "https://dev.services.ai.azure.com", auth_mode: "key" },
  secrets: { api_key: "******" },
  createdAt: "2026-12-01T21:00:00Z",
  updatedAt: "2026-12-01T21:00:00Z",
};

const underProd = (fromProfile: string[], config = base.config): EffectiveConnectionView => ({
  connection: { ...base, config },
  profile: "prod",
  fromProfile,
});

describe("profile overrides", () => {
  it("holds only the fields the profile sets, its secrets as stored and never their values", () => {
    const draft = draftFromEffective(underProd(["api_key", "endpoint"], { ...base.config, endpoint: "https://prod.services.ai.azure.com" }));
    expect(draft.config).toEqual({ endpoint: "https://prod.services.ai.azure.com" });
    expect(draft.secrets).toEqual({ api_key: { stored: true, replacing: false, value: "" } });
    expect(draftFromEffective(underProd([]))).toEqual({ config: {}, secrets: {} });
  });

  it("sends a kept secret as ****** and a new one as typed", () => {
    const kept = draftFromEffective(underProd(["api_key"]));
    expect(toOverrideInput(azure, base, kept)).toEqual({ config: {}, secrets: { api_key: "******" } });
    const replaced = { ...kept, secrets: { api_key: { stored: true, replacing: true, value: "sk-prod-1" } } };
    expect(toOverrideInput(azure, base, replaced).secrets).toEqual({ api_key: "sk-prod-1" });
  });

  it("sends an emptied field as it is, for the Rust side to say to leave it out", () => {
    expect(toOverrideInput(azure, base, { config: { endpoint: "" }, secrets: {} }).config).toEqual({ endpoint: "" });
  });

  it("leaves out a key the profile's own choice hides, so Entra ID under prod sends none", () => {
    const draft = { config: { auth_mode: "meid_token" }, secrets: { api_key: { stored: true, replacing: false, value: "" } } };
    expect(shownOverrideFields(azure, base, draft).map((f) => f.key)).toEqual(["endpoint", "auth_mode", "token_scope"]);
    expect(toOverrideInput(azure, base, draft)).toEqual({ config: { auth_mode: "meid_token" }, secrets: {} });
  });

  it("ticking a field starts from the connection's value, and a stored secret comes back kept", () => {
    const initial = draftFromEffective(underProd(["api_key"]));
    const endpoint = azure.fields[0] as FieldSpec;
    const apiKey = azure.fields[2] as FieldSpec;
    const ticked = toggleField(base, initial, initial, endpoint, true);
    expect(ticked.config).toEqual({ endpoint: "https://dev.services.ai.azure.com" });
    const untickedKey = toggleField(base, initial, ticked, apiKey, false);
    expect(untickedKey.secrets).toEqual({});
    expect(toggleField(base, initial, untickedKey, apiKey, true).secrets.api_key).toEqual({ stored: true, replacing: false, value: "" });
    const fresh = toggleField(base, { config: {}, secrets: {} }, { config: {}, secrets: {} }, apiKey, true);
    expect(fresh.secrets.api_key).toEqual({ stored: false, replacing: true, value: "" });
  });

  it("offers a custom connection's own keys", () => {
    const custom: KindSpec = { kind: "custom", label: "Custom", description: "", fields: [] };
    const view = { ...base, type: "custom" as const, config: { region: "eu" }, secrets: { token: "******" } };
    expect(overridableFields(custom, view).map((f) => [f.key, f.input])).toEqual([
      ["region", "text"],
      ["token", "secret"],
    ]);
  });
});
