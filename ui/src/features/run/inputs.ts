// The Test run inputs form: one typed field per flow input, parsed before anything reaches Rust,
// and the last values offered again next time. Secret inputs are never written anywhere.
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { ValueType } from "../../ipc/generated/ValueType";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";

export type InputField = {
  name: string;
  type: ValueType;
  secret: boolean;
  description: string;
  default: JsonValue | undefined;
};

/** What the user typed, one string per field; bool fields hold "true" or "false". */
export type Drafts = Record<string, string>;

export type Parsed = { ok: true; values: Record<string, JsonValue> } | { ok: false; errors: Record<string, string> };

export type KeyValueStorage = Pick<Storage, "getItem" | "setItem">;

/** The form's fields; `secret` names the inputs Rust found to carry secrets (`secret_inputs`). */
export function inputFields(document: FlowDocument, secret: ReadonlySet<string> = new Set()): InputField[] {
  return Object.entries(document.inputs ?? {}).map(([name, spec]) => ({
    name,
    type: spec.type,
    secret: spec.secret === true || secret.has(name),
    description: spec.description ?? "",
    default: spec.default,
  }));
}

function toDraft(type: ValueType, value: JsonValue | undefined): string {
  if (value === undefined || value === null) return type === "bool" ? "false" : "";
  if (typeof value === "string") return value;
  if (type === "object" || type === "list" || typeof value === "object") return JSON.stringify(value, null, 2);
  return String(value);
}

/** The values the form opens with: remembered ones first, then each input's default. */
export function initialDrafts(fields: InputField[], remembered: Record<string, JsonValue>): Drafts {
  return Object.fromEntries(
    fields.map((f) => [f.name, toDraft(f.type, !f.secret && f.name in remembered ? remembered[f.name] : f.default)]),
  );
}

const EXAMPLES: Partial<Record<ValueType, string>> = { object: '{"key": "value"}', list: '["a", "b"]' };

function parseJson(text: string, type: "object" | "list"): { value: JsonValue } | { error: string } {
  const kind = type === "object" ? "a JSON object" : "a JSON list";
  if (!text.trim()) return { error: `enter ${kind}, like ${EXAMPLES[type]}` };
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { error: `this is not valid JSON (${reason}); enter ${kind}, like ${EXAMPLES[type]}` };
  }
  const isList = Array.isArray(value);
  const isObject = typeof value === "object" && value !== null && !isList;
  if (type === "object" ? isObject : isList) return { value };
  return { error: `this is valid JSON but not ${kind}; enter one like ${EXAMPLES[type]}` };
}

function parseOne(field: InputField, text: string): { value: JsonValue } | { error: string } {
  switch (field.type) {
    case "number": {
      if (!text.trim()) return { error: "enter a number" };
      const value = Number(text.trim());
      return Number.isFinite(value) ? { value } : { error: `“${text.trim()}” is not a number` };
    }
    case "bool":
      return { value: text === "true" };
    case "object":
    case "list":
      return parseJson(text, field.type);
    case "connection":
      // A connection value is an object; the engine refuses text for it.
      return parseJson(text, "object");
    case "any":
      // Anything that reads as JSON is taken as JSON; everything else as text.
      try {
        return { value: JSON.parse(text) as JsonValue };
      } catch {
        return { value: text };
      }
    default:
      return { value: text };
  }
}

export function parseInputs(fields: InputField[], drafts: Drafts): Parsed {
  const values: Record<string, JsonValue> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const result = parseOne(field, drafts[field.name] ?? "");
    if ("error" in result) errors[field.name] = result.error;
    else values[field.name] = result.value;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, values };
}

const storageKey = (path: string | null) => `weft.runInputs:${path ?? "(unsaved flow)"}`;

/** The last non-secret values used for this flow file; nothing if storage is unreadable. */
export function recallInputs(storage: KeyValueStorage, path: string | null): Record<string, JsonValue> {
  try {
    const stored: unknown = JSON.parse(storage.getItem(storageKey(path)) ?? "{}");
    return stored && typeof stored === "object" && !Array.isArray(stored) ? (stored as Record<string, JsonValue>) : {};
  } catch {
    return {};
  }
}

function masked(value: JsonValue, secrets: string[]): JsonValue {
  if (typeof value === "string") return secrets.reduce((text, secret) => text.split(secret).join("******"), value);
  if (Array.isArray(value)) return value.map((item) => masked(item, secrets));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v as JsonValue, secrets)]));
  }
  return value;
}

/** Remembers the values of a run's non-secret inputs; a secret one is dropped even if stored before. */
export function rememberInputs(
  storage: KeyValueStorage,
  path: string | null,
  fields: InputField[],
  values: Record<string, JsonValue>,
): void {
  // A plain input may quote a secret one ("repeat my key sk-…"): it is kept masked, as history keeps it.
  const secrets = fields
    .filter((f) => f.secret && typeof values[f.name] === "string")
    .map((f) => (values[f.name] as string).trim())
    .filter((secret) => secret.length >= 4);
  const kept = Object.fromEntries(
    fields.filter((f) => !f.secret && f.name in values).map((f) => [f.name, masked(values[f.name] as JsonValue, secrets)]),
  );
  try {
    storage.setItem(storageKey(path), JSON.stringify(kept));
  } catch {
    // A full or disabled storage only costs the convenience of pre-filled values.
  }
}
