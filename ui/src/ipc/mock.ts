// Stands in for the Rust side in browser tests (`vite build --mode e2e`); never in the shipped
// bundle. It mirrors the real commands' contracts: secrets go in, never come out.
import { mockIPC } from "@tauri-apps/api/mocks";

import type { ConnectionInput } from "./generated/ConnectionInput";
import type { ConnectionView } from "./generated/ConnectionView";
import type { Diagnostics } from "./generated/Diagnostics";
import type { IpcError } from "./generated/IpcError";
import type { KindSpec } from "./generated/KindSpec";
import { type FlowsMockOptions, flowCommand, isFlowCommand } from "./mock-flows";
import { isProfileCommand, profileCommand } from "./mock-profiles";
import { type RunMockOptions, runMock } from "./mock-run";

/** Set by a test (playwright's addInitScript) before the page loads. */
type MockOptions = {
  /** Every keychain call fails, as with a locked Secret Service. */
  keychainFails?: boolean;
  /** The diagnostics command itself rejects, as when the database is from a newer Weft. */
  diagnosticsFails?: boolean;
  /** The Azure CLI is not signed in, so Microsoft Entra ID connections get no token. */
  entraSignedOut?: boolean;
  /** How test runs behave (a failing node, a throttled node, slow tokens). */
  run?: RunMockOptions;
  /** Flow files, recovery and native dialog answers. */
  flows?: FlowsMockOptions;
};
declare global {
  interface Window {
    __WEFT_MOCK__?: MockOptions;
    /** Every connection the form submitted (create and update), for tests to read what was sent. */
    __WEFT_CONNECTION_INPUTS__?: ConnectionInput[];
  }
}

const options: MockOptions = window.__WEFT_MOCK__ ?? {};

type Field = KindSpec["fields"][number];
const text = (key: string, label: string, extra: Partial<Field> = {}): Field => ({
  key,
  label,
  input: "text",
  required: false,
  default: null,
  placeholder: "",
  help: "",
  choices: [],
  shownWhen: null,
  ...extra,
});
const apiKey = text("api_key", "API key", { input: "secret", required: true, help: "Stored in your OS keychain." });
const choice = (key: string, label: string, choices: Field["choices"], help = ""): Field =>
  text(key, label, { input: "choice", default: choices[0]?.value ?? null, choices, help });

// The Azure connection types as crates/weft-store/src/connections/kind.rs declares them.
const authMode = choice(
  "auth_mode",
  "Authentication",
  [
    { value: "key", label: "API key" },
    { value: "meid_token", label: "Microsoft Entra ID" },
  ],
  "Microsoft Entra ID signs in as you, through `az login` or `azd auth login`, and stores no secret.",
);
const keyedApiKey = { ...apiKey, shownWhen: { field: "auth_mode", equals: "key" } };
const tokenScope = text("token_scope", "Token scope", {
  placeholder: "https://ai.azure.com/.default",
  help: "The token's audience; leave empty for https://ai.azure.com/.default.",
  shownWhen: { field: "auth_mode", equals: "meid_token" },
});

const kinds: KindSpec[] = [
  {
    kind: "azure_ai",
    label: "Azure AI Foundry",
    description: "Every model deployment of an Azure AI Foundry resource, through the OpenAI v1 API. Nodes pick the deployment.",
    fields: [
      text("endpoint", "Endpoint", {
        input: "url",
        required: true,
        placeholder: "https://<resource>.services.ai.azure.com",
        help: "The resource URL; …/models, the bare resource or …/openai/v1 are all accepted.",
      }),
      choice(
        "api",
        "API",
        [
          { value: "v1", label: "OpenAI v1 API" },
          { value: "model_inference", label: "Azure AI Model Inference API (/models, retired)" },
        ],
        "v1, because Azure retired the /models API on 2026-08-26 and v1 serves every deployment of the resource.",
      ),
      authMode,
      keyedApiKey,
      tokenScope,
      text("api_version", "API version", {
        default: "2024-05-01-preview",
        help: "The Azure AI Model Inference API version.",
        shownWhen: { field: "api", equals: "model_inference" },
      }),
    ],
  },
  {
    kind: "azure_open_ai",
    label: "Azure OpenAI",
    description: "An Azure OpenAI resource: one deployment (…/openai/deployments/<name>), or every deployment through the v1 API.",
    fields: [
      text("api_base", "API base", {
        input: "url",
        required: true,
        placeholder: "https://<resource>.openai.azure.com",
        help: "The resource URL, a full deployment URL (pins the deployment), or an …/openai/v1 base.",
      }),
      choice(
        "api",
        "API",
        [
          { value: "deployments", label: "Deployment API (…/openai/deployments)" },
          { value: "v1", label: "OpenAI v1 API (every deployment)" },
        ],
        "The v1 API serves every deployment of the resource, and the node picks the deployment.",
      ),
      authMode,
      keyedApiKey,
      tokenScope,
      text("api_version", "API version", { default: "2024-10-21", shownWhen: { field: "api", equals: "deployments" } }),
      text("api_type", "API type", { default: "azure" }),
    ],
  },
  { kind: "serp", label: "SerpAPI", description: "A SerpAPI key.", fields: [apiKey] },
  { kind: "custom", label: "Custom", description: "Any key-value settings.", fields: [] },
];

/** weft-ai's `Endpoint::api_label` for the API a saved connection calls. */
function apiLabel(connection: ConnectionView): string {
  const api = connection.config.api;
  if (connection.type === "azure_ai") return api === "model_inference" ? "Azure AI Model Inference API" : "OpenAI v1 API";
  if (connection.type === "azure_open_ai") return api === "v1" ? "OpenAI v1 API" : "Azure OpenAI deployments API";
  return connection.type === "serverless" ? "serverless model API" : "OpenAI API";
}

/** Rust's `KindSpec::shows`: the field belongs to the connection under these (validated) choices. */
function shows(field: Field, config: Record<string, string>): boolean {
  return !field.shownWhen || config[field.shownWhen.field] === field.shownWhen.equals;
}

/** Rust's `Draft::validate`, for the fields the mock's types have: choices decide which of the
 * other fields are kept, a hidden key is refused, a shown required one is needed. */
function validate(input: ConnectionInput, previous: ConnectionView | undefined, problems: IpcError["problems"]) {
  const spec = kinds.find((k) => k.kind === input.type);
  if (!spec || spec.kind === "custom")
    return { config: input.config, secrets: [...new Set([...Object.keys(previous?.secrets ?? {}), ...Object.keys(input.secrets)])] };
  const config: Record<string, string> = {};
  for (const field of spec.fields.filter((f) => f.input === "choice")) {
    const given = input.config[field.key]?.trim() || field.default || "";
    const found = field.choices.find((c) => c.value.toLowerCase() === given.toLowerCase());
    if (found) config[field.key] = found.value;
    else {
      const allowed = field.choices.map((c) => `\`${c.value}\` (${c.label})`).join(", ");
      problems.push({ field: field.key, message: `\`${given}\` is not a ${field.key} value; use one of ${allowed}` });
    }
  }
  if (spec.kind === "azure_open_ai" && /\/openai\/v1\/?$/i.test(input.config.api_base ?? "")) config.api = "v1";
  const secrets: string[] = [];
  for (const field of spec.fields.filter((f) => f.input !== "choice")) {
    const value = field.input === "secret" ? input.secrets[field.key] : input.config[field.key]?.trim();
    if (!shows(field, config)) {
      if (field.input === "secret" && value && value !== "******")
        problems.push({ field: field.key, message: "Microsoft Entra ID connections store no key; remove it, or choose API key" });
      continue;
    }
    if (field.input === "secret") {
      const kept = (value === "******" || value === "") && previous?.secrets[field.key];
      if (value && value !== "******") secrets.push(field.key);
      else if (kept) secrets.push(field.key);
      else if (field.required) problems.push({ field: field.key, message: `${field.label} is required` });
    } else if (value) config[field.key] = value.replace(/\/+$/, "");
    else if (field.default) config[field.key] = field.default;
    else if (field.required) problems.push({ field: field.key, message: `${field.label} is required` });
  }
  return { config, secrets };
}

const connections = new Map<string, ConnectionView>();

function fail(kind: IpcError["kind"], message: string, problems: IpcError["problems"] = []): never {
  throw { kind, message, problems } satisfies IpcError;
}

function save(input: ConnectionInput, previous?: ConnectionView): { connection: ConnectionView; warnings: string[] } {
  (window.__WEFT_CONNECTION_INPUTS__ ??= []).push(structuredClone(input));
  const problems: IpcError["problems"] = [];
  if (!input.name.trim()) problems.push({ field: "name", message: "a connection name has 1 to 64 characters (this one has 0)" });
  const endpoint = input.config.endpoint ?? "";
  // …/openai/v1 is served by Foundry resources too; the deployment API and the host are not.
  if (input.type === "azure_ai" && (/\/openai(\/(?!v1\b)|\/?$)/i.test(endpoint) || /\.openai\.azure\.com/i.test(endpoint)))
    problems.push({
      field: "endpoint",
      message:
        "this is an Azure OpenAI URL (*.openai.azure.com, or …/openai/deployments/…), so use an Azure OpenAI connection (azure_open_ai): an Azure AI Foundry connection takes a *.services.ai.azure.com resource and sends the deployment name in each request",
    });
  const valid = validate(input, previous, problems);
  if (problems.length) fail("invalidInput", problems.map((p) => p.message).join("; "), problems);
  // Only writing or deleting a key calls the keychain: an Entra ID connection never does.
  const written = Object.values(input.secrets).some((value) => value && value !== "******");
  const deleted = Object.keys(previous?.secrets ?? {}).some((key) => !valid.secrets.includes(key));
  if (options.keychainFails && (written || deleted))
    fail("keychain", "the Secret Service (D-Bus) refused access; it is probably locked; nothing was changed");
  const now = new Date().toISOString().slice(0, 19) + "Z";
  const connection: ConnectionView = {
    id: previous?.id ?? crypto.randomUUID(),
    name: input.name.trim(),
    type: input.type,
    config: valid.config,
    secrets: Object.fromEntries(valid.secrets.map((key) => [key, "******"])),
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
  if (previous) connections.delete(previous.name);
  connections.set(connection.name, connection);
  const warnings = endpoint.startsWith("http://") ? ["endpoint uses plain http: the API key would travel unencrypted"] : [];
  return { connection, warnings };
}

function diagnostics(): Diagnostics {
  if (options.diagnosticsFails)
    fail(
      "database",
      "the database /home/ada/.local/share/dev.weft.app/weft.sqlite3 was written by a newer Weft (schema version 4; this build knows up to 3); update Weft, or set WEFT_HOME to use another data folder",
    );
  return {
    appVersion: "0.1.0",
    dataDir: "/home/ada/.local/share/dev.weft.app",
    database: {
      path: "/home/ada/.local/share/dev.weft.app/weft.sqlite3",
      schemaVersion: 3,
      latestSchemaVersion: 3,
      journalMode: "wal",
      busyTimeoutMs: 5000,
      ownerOnly: true,
      createdWith: "0.1.0",
    },
    keychain: {
      backend: "Secret Service (D-Bus)",
      service: "weft",
      probe: options.keychainFails
        ? { status: "failed", millis: 0, message: "no Secret Service (D-Bus) is reachable; start GNOME Keyring and unlock it" }
        : { status: "ok", millis: 3.2 },
    },
    entra: entraReports(),
  };
}

/** Rust's Diagnostics::entra: one sign-in per token scope the Entra ID connections use. */
function entraReports(): Diagnostics["entra"] {
  const byScope = new Map<string, string[]>();
  for (const connection of [...connections.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (connection.config.auth_mode !== "meid_token") continue;
    const scope = connection.config.token_scope ?? "https://ai.azure.com/.default";
    byScope.set(scope, [...(byScope.get(scope) ?? []), connection.name]);
  }
  // An hour from now, as `az account get-access-token` gives.
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19) + "Z";
  return [...byScope].map(([scope, names]) => ({
    scope,
    connections: names,
    signIn: window.__WEFT_MOCK__?.entraSignedOut
      ? {
          status: "failed" as const,
          message: "Microsoft Entra ID sign-in: the Azure CLI is not signed in, or its sign-in has expired; run `az login`",
        }
      : { status: "ok" as const, credential: "Azure CLI", tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47", expiresAt },
  }));
}

mockIPC((command, payload) => {
  const args = (payload ?? {}) as Record<string, unknown>;
  switch (command) {
    case "diagnostics":
      return diagnostics();
    case "connection_kinds":
      return kinds;
    case "list_connections":
      return [...connections.values()].sort((a, b) => a.name.localeCompare(b.name));
    case "create_connection": {
      const input = args.input as ConnectionInput;
      if (connections.has(input.name.trim())) fail("conflict", `a connection named \`${input.name}\` already exists`);
      return save(input);
    }
    case "update_connection": {
      const previous = connections.get(args.name as string) ?? fail("notFound", `no connection is named \`${String(args.name)}\``);
      return save(args.input as ConnectionInput, previous);
    }
    case "test_connection": {
      const connection = connections.get(args.name as string) ?? fail("notFound", `no connection is named \`${String(args.name)}\``);
      if (connection.type !== "serverless" && !args.deployment)
        fail("invalidInput", `\`${connection.name}\` serves several deployments; name the one to test with`);
      if (connection.config.auth_mode === "meid_token" && window.__WEFT_MOCK__?.entraSignedOut)
        fail("service", "Microsoft Entra ID sign-in: the Azure CLI is not signed in, or its sign-in has expired; run `az login`");
      if (args.deployment === "missing")
        fail("service", "nothing at https://res.services.ai.azure.com/openai/v1/chat/completions (HTTP 404): the deployment does not exist on this resource");
      return { latencyMs: 42.4, model: "gpt-4o-mini-2024-07-18", method: "chat completion", api: apiLabel(connection) };
    }
    case "delete_connection":
      if (!connections.delete(args.name as string)) fail("notFound", `no connection is named \`${String(args.name)}\``);
      return null;
    default: {
      if (isFlowCommand(command)) return flowCommand(command, args, () => window.__WEFT_MOCK__?.flows ?? {});
      if (isProfileCommand(command)) return profileCommand(command, args, { connections: () => [...connections.values()] });
      const context = { connectionNames: () => [...connections.keys()], options: () => window.__WEFT_MOCK__?.run ?? {} };
      return runMock(command, args, context) ?? fail("internal", `the mock has no command ${command}`);
    }
  }
});
