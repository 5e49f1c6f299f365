// The connection form's state and how it maps to and from the IPC types. Pure, so it is tested
// without a DOM.
import type { ConnectionInput } from "../../ipc/generated/ConnectionInput";
import type { ConnectionKind } from "../../ipc/generated/ConnectionKind";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import type { Problem } from "../../ipc/generated/Problem";

/** What the Rust side takes as "keep the stored secret". */
export const KEEP_SECRET = "******";

/** A secret field in the form: stored (shown masked, replaceable) or being typed. */
export type SecretField = { stored: boolean; replacing: boolean; value: string };

/** A key-value row of a custom connection. */
export type CustomRow = { id: number; key: string; value: string; secret: boolean; stored: boolean };

export type ConnectionDraft = {
  /** The name the connection is saved under; null for a new one. */
  original: string | null;
  name: string;
  kind: ConnectionKind;
  config: Record<string, string>;
  secrets: Record<string, SecretField>;
  rows: CustomRow[];
};

let nextRowId = 1;
export const newRow = (secret = false): CustomRow => ({
  id: nextRowId++,
  key: "",
  value: "",
  secret,
  stored: false,
});

export function emptyDraft(spec: KindSpec): ConnectionDraft {
  const config: Record<string, string> = {};
  const secrets: Record<string, SecretField> = {};
  for (const field of spec.fields) {
    if (field.input === "secret") secrets[field.key] = { stored: false, replacing: true, value: "" };
    else config[field.key] = field.default ?? "";
  }
  return {
    original: null,
    name: "",
    kind: spec.kind,
    config,
    secrets,
    rows: spec.kind === "custom" ? [newRow()] : [],
  };
}

export function draftFromView(view: ConnectionView, spec: KindSpec): ConnectionDraft {
  const draft = emptyDraft(spec);
  draft.original = view.name;
  draft.name = view.name;
  const stored = Object.keys(view.secrets);
  if (view.type === "custom") {
    draft.rows = [
      ...Object.entries(view.config).map(([key, value]) => ({ ...newRow(), key, value: value ?? "" })),
      ...stored.map((key) => ({ ...newRow(true), key, stored: true })),
    ];
    if (draft.rows.length === 0) draft.rows = [newRow()];
    return draft;
  }
  for (const [key, value] of Object.entries(view.config)) draft.config[key] = value ?? "";
  for (const key of stored) draft.secrets[key] = { stored: true, replacing: false, value: "" };
  return draft;
}

/** The IPC input: untouched stored secrets go as KEEP_SECRET, so the form never needs them. */
export function toInput(draft: ConnectionDraft): ConnectionInput {
  const config: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  if (draft.kind === "custom") {
    for (const row of draft.rows) {
      const key = row.key.trim();
      if (!key) continue;
      if (row.secret) secrets[key] = row.stored && row.value === "" ? KEEP_SECRET : row.value;
      else config[key] = row.value;
    }
  } else {
    for (const [key, value] of Object.entries(draft.config)) if (value.trim()) config[key] = value;
    for (const [key, field] of Object.entries(draft.secrets)) {
      if (field.replacing && field.value !== "") secrets[key] = field.value;
      else if (field.stored) secrets[key] = KEEP_SECRET;
    }
  }
  return { name: draft.name, type: draft.kind, config, secrets };
}

/** Problems keyed by field, for inline messages; problems without a field go under "". */
export function problemsByField(problems: Problem[]): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const problem of problems) (byField[problem.field ?? ""] ??= []).push(problem.message);
  return byField;
}

/** A short badge per type for the list (the palette's icon language). */
export const KIND_BADGE: Record<ConnectionKind, string> = {
  azure_ai: "AI",
  azure_open_ai: "AOAI",
  open_ai: "OAI",
  serverless: "SLS",
  azure_content_safety: "CS",
  cognitive_search: "SRCH",
  serp: "SERP",
  custom: "{ }",
};

/** The field a user recognises a connection by. */
export function addressOf(view: ConnectionView): string {
  return view.config.endpoint ?? view.config.api_base ?? view.config.base_url ?? "";
}
