// Stands in for the Rust side in browser tests (`vite build --mode e2e`); never in the shipped
// bundle. It mirrors the real commands' contracts: secrets go in, never come out.
import { mockIPC } from "@tauri-apps/api/mocks";

import type { ConnectionInput } from "./generated/ConnectionInput";
import type { ConnectionView } from "./generated/ConnectionView";
import type { Diagnostics } from "./generated/Diagnostics";
import type { IpcError } from "./generated/IpcError";
import type { KindSpec } from "./generated/KindSpec";
import { type FlowsMockOptions, flowCommand, isFlowCommand } from "./mock-flows";
import { type RunMockOptions, runMock } from "./mock-run";

/** Set by a test (playwright's addInitScript) before the page loads. */
type MockOptions = {
  /** Every keychain call fails, as with a locked Secret Service. */
  keychainFails?: boolean;
  /** The diagnostics command itself rejects, as when the database is from a newer Weft. */
  diagnosticsFails?: boolean;
  /** How test runs behave (a failing node, a throttled node, slow tokens). */
  run?: RunMockOptions;
  /** Flow files, recovery and native dialog answers. */
  flows?: FlowsMockOptions;
};
declare global {
  interface Window {
    __WEFT_MOCK__?: MockOptions;
  }
}

const options: MockOptions = window.__WEFT_MOCK__ ?? {};

const text = (key: string, label: string, extra: Partial<KindSpec["fields"][number]> = {}) => ({
  key,
  label,
  input: "text" as const,
  required: false,
  default: null,
  placeholder: "",
  help: "",
  ...extra,
});
const apiKey = text("api_key", "API key", { input: "secret", required: true, help: "Stored in your OS keychain." });

const kinds: KindSpec[] = [
  {
    kind: "azure_ai",
    label: "Azure AI Foundry",
    description: "Every model deployment of an Azure AI Foundry resource.",
    fields: [
      text("endpoint", "Endpoint", { input: "url", required: true, placeholder: "https://<resource>.services.ai.azure.com/models" }),
      apiKey,
      text("api_version", "API version", { default: "2024-05-01-preview" }),
    ],
  },
  { kind: "serp", label: "SerpAPI", description: "A SerpAPI key.", fields: [apiKey] },
  { kind: "custom", label: "Custom", description: "Any key-value settings.", fields: [] },
];

const connections = new Map<string, ConnectionView>();

function fail(kind: IpcError["kind"], message: string, problems: IpcError["problems"] = []): never {
  throw { kind, message, problems } satisfies IpcError;
}

function save(input: ConnectionInput, previous?: ConnectionView): { connection: ConnectionView; warnings: string[] } {
  const problems: IpcError["problems"] = [];
  if (!input.name.trim()) problems.push({ field: "name", message: "a connection name has 1 to 64 characters (this one has 0)" });
  const endpoint = input.config.endpoint ?? "";
  if (input.type === "azure_ai" && endpoint.includes("/openai/"))
    problems.push({ field: "endpoint", message: "this is an Azure OpenAI URL (…/openai/…), so use an Azure OpenAI connection (azure_open_ai)" });
  if (problems.length) fail("invalidInput", problems.map((p) => p.message).join("; "), problems);
  if (options.keychainFails) fail("keychain", "the Secret Service (D-Bus) refused access; it is probably locked; nothing was changed");
  const now = new Date().toISOString().slice(0, 19) + "Z";
  const secrets = Object.fromEntries(Object.keys({ ...previous?.secrets, ...input.secrets }).map((key) => [key, "******"]));
  const connection: ConnectionView = {
    id: previous?.id ?? crypto.randomUUID(),
    name: input.name.trim(),
    type: input.type,
    config: input.config,
    secrets,
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
  };
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
      if (args.deployment === "missing")
        fail("service", "nothing at https://res.services.ai.azure.com/models/chat/completions (HTTP 404): the deployment does not exist on this resource");
      return { latencyMs: 42.4, model: "gpt-4o-mini-2024-07-18", method: "chat completion" };
    }
    case "delete_connection":
      if (!connections.delete(args.name as string)) fail("notFound", `no connection is named \`${String(args.name)}\``);
      return null;
    default: {
      if (isFlowCommand(command)) return flowCommand(command, args, () => window.__WEFT_MOCK__?.flows ?? {});
      const context = { connectionNames: () => [...connections.keys()], options: () => window.__WEFT_MOCK__?.run ?? {} };
      return runMock(command, args, context) ?? fail("internal", `the mock has no command ${command}`);
    }
  }
});
