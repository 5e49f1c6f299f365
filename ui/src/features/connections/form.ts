// The connection form's state and how it maps to and from the IPC types. Pure, so it is tested
// without a DOM.
import type { ConnectionInput } from "../../ipc/generated/ConnectionInput";
import type { ConnectionKind } from "../../ipc/generated/ConnectionKind";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { FieldSpec } from "../../ipc/generated/FieldSpec";
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

/**
 * Whether a field belongs to the connection as drafted: always, or while the choice it depends on
 * has the value it needs (as typed, else that choice's default). The same rule as Rust's
 * `KindSpec::shows`, which validation applies: a hidden field is neither required nor stored.
 */
export function isShown(spec: KindSpec, field: FieldSpec, config: Record<string, string>): boolean {
  const when = field.shownWhen;
  if (!when) return true;
  const given = config[when.field]?.trim();
  const value = given || spec.fields.find((f) => f.key === when.field)?.default;
  return value?.toLowerCase() === when.equals.toLowerCase();
}

/** The fields the form shows for the draft, in the spec's order. */
export function shownFields(spec: KindSpec, draft: ConnectionDraft): FieldSpec[] {
  return spec.fields.filter((field) => isShown(spec, field, draft.config));
}

/**
 * The IPC input: untouched stored secrets go as KEEP_SECRET, so the form never needs them. Hidden
 * fields are left out, so a Microsoft Entra ID connection sends no key, not even a kept one.
 */
export function toInput(spec: KindSpec, draft: ConnectionDraft): ConnectionInput {
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
    const shown = new Set(shownFields(spec, draft).map((field) => field.key));
    for (const [key, value] of Object.entries(draft.config)) if (shown.has(key) && value.trim()) config[key] = value;
    for (const [key, field] of Object.entries(draft.secrets)) {
      if (!shown.has(key)) continue;
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
