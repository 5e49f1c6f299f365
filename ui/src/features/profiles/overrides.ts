// What a profile changes in one connection, as its form edits it, and how that maps to and from
// the IPC types. Pure, so it is tested without a DOM. A field the draft does not hold comes from
// the connection as saved; the Rust side validates the merge with the type's rules.
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { EffectiveConnectionView } from "../../ipc/generated/EffectiveConnectionView";
import type { FieldSpec } from "../../ipc/generated/FieldSpec";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import type { OverrideInput } from "../../ipc/generated/OverrideInput";
import { KEEP_SECRET, type SecretField, isShown } from "../connections/form";

/** A secret the profile sets, as the connection form holds one: `stored` when the profile's
 * keychain entry exists, `replacing` while a new value is typed. */
export type SecretOverride = SecretField;

export type OverrideDraft = {
  config: Record<string, string>;
  secrets: Record<string, SecretOverride>;
};

/** The draft of what the profile sets now: the fields the effective view marks as its own. */
export function draftFromEffective(view: EffectiveConnectionView): OverrideDraft {
  const draft: OverrideDraft = { config: {}, secrets: {} };
  for (const key of view.fromProfile) {
    if (key in view.connection.secrets) draft.secrets[key] = { stored: true, replacing: false, value: "" };
    else draft.config[key] = view.connection.config[key] ?? "";
  }
  return draft;
}

/** The fields a profile can set: the type's, or for a custom connection the keys it has. */
export function overridableFields(spec: KindSpec, base: ConnectionView): FieldSpec[] {
  if (spec.kind !== "custom") return spec.fields;
  const field = (key: string, input: FieldSpec["input"]): FieldSpec => ({
    key,
    label: key,
    input,
    required: false,
    default: null,
    placeholder: "",
    help: "",
    choices: [],
    shownWhen: null,
  });
  return [
    ...Object.keys(base.config).map((key) => field(key, "text")),
    ...Object.keys(base.secrets).map((key) => field(key, "secret")),
  ];
}

/** The plain fields in effect under the draft: the connection's, then the profile's. */
export function mergedConfig(base: ConnectionView, draft: OverrideDraft): Record<string, string> {
  return { ...base.config, ...draft.config };
}

/** The fields that belong to the connection under the draft's choices, in the type's order. */
export function shownOverrideFields(spec: KindSpec, base: ConnectionView, draft: OverrideDraft): FieldSpec[] {
  const config = mergedConfig(base, draft);
  return overridableFields(spec, base).filter((field) => isShown(spec, field, config));
}

/**
 * The IPC input. A kept secret goes as KEEP_SECRET, so the form never needs its value. Fields
 * hidden by the draft's choices are left out, as the connection form does, so a profile that
 * switches to Microsoft Entra ID sends no key. An empty field is sent as it is: the Rust side
 * says to leave it out instead.
 */
export function toOverrideInput(spec: KindSpec, base: ConnectionView, draft: OverrideDraft): OverrideInput {
  const shown = new Set(shownOverrideFields(spec, base, draft).map((field) => field.key));
  const config: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(draft.config)) if (shown.has(key)) config[key] = value;
  for (const [key, secret] of Object.entries(draft.secrets)) {
    if (!shown.has(key)) continue;
    secrets[key] = secret.replacing && secret.value !== "" ? secret.value : secret.stored ? KEEP_SECRET : secret.value;
  }
  return { config, secrets };
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

/**
 * The draft with `field` set by the profile or not. Turned back on, a field starts from what the
 * profile had when the form opened (a stored secret stays kept), else from the connection's value.
 */
export function toggleField(
  base: ConnectionView,
  initial: OverrideDraft,
  draft: OverrideDraft,
  field: FieldSpec,
  on: boolean,
): OverrideDraft {
  const key = field.key;
  if (field.input === "secret") {
    const secrets = without(draft.secrets, key);
    if (on) secrets[key] = initial.secrets[key] ?? { stored: false, replacing: true, value: "" };
    return { ...draft, secrets };
  }
  const config = without(draft.config, key);
  if (on) config[key] = initial.config[key] ?? base.config[key] ?? field.default ?? "";
  return { ...draft, config };
}
