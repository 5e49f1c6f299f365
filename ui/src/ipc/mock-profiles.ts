// The profile commands for browser tests, behaving like the Rust contract
// (crates/weft-store/src/connections/store/profiles.rs): names of 1 to 32 letters, digits, `-`,
// `_` or `.`, unique ignoring case; the active choice survives until switched or deleted; an
// override replaces the profile's earlier one, keeps a secret given as "" or "******" only when
// the profile has it, and never hands a secret back; the errors carry the Rust messages word for
// word. The kind's own field rules are the connection mock's; they are not checked again here.
import type { ConnectionView } from "./generated/ConnectionView";
import type { EffectiveConnectionView } from "./generated/EffectiveConnectionView";
import type { IpcError } from "./generated/IpcError";
import type { OverrideInput } from "./generated/OverrideInput";
import type { ProfileView } from "./generated/ProfileView";
import type { SavedOverride } from "./generated/SavedOverride";
import { savedConnections } from "./mock-connections";
import { type Handlers, fail } from "./mock-options";

declare global {
  interface Window {
    /** Every override the app submitted, for tests to read what was sent. */
    __WEFT_OVERRIDE_INPUTS__?: { name: string; profile: string; input: OverrideInput }[];
  }
}

const MAX_PROFILE_CHARS = 32;

type Stored = { name: string; createdAt: string };

const profiles: Stored[] = [];
let active: string | null = null;
/** By `<connection id>@<profile>`, as the keychain accounts are: a renamed connection keeps its overrides. */
const overrides = new Map<string, { config: Record<string, string>; secrets: Set<string> }>();
const KEEP = new Set(["", "******"]);

function find(raw: string): Stored {
  const name = raw.trim();
  return (
    profiles.find((p) => p.name.toLowerCase() === name.toLowerCase()) ??
    fail(
      "notFound",
      `no profile is named \`${name}\`; create it with \`weft profile create ${name}\` (or in the app's profile menu), or pick one that \`weft profile list\` shows`,
    )
  );
}

function view(profile: Stored): ProfileView {
  const count = savedConnections().filter((c) => overrides.has(`${c.id}@${profile.name}`)).length;
  return { name: profile.name, createdAt: profile.createdAt, overrides: count, active: active === profile.name };
}

function connection(name: string): ConnectionView {
  return savedConnections().find((c) => c.name === name) ?? fail("notFound", `no connection is named \`${name}\``);
}

function effective(base: ConnectionView, profile: string | null): EffectiveConnectionView {
  const over = profile === null ? undefined : overrides.get(`${base.id}@${profile}`);
  if (!over) return { connection: base, profile, fromProfile: [] };
  const secrets = Object.fromEntries([...Object.keys(base.secrets), ...over.secrets].map((key) => [key, "******"]));
  return {
    connection: { ...base, config: { ...base.config, ...over.config }, secrets },
    profile,
    fromProfile: [...Object.keys(over.config), ...over.secrets].sort(),
  };
}

function setOverride(base: ConnectionView, profile: string, input: OverrideInput): SavedOverride {
  (window.__WEFT_OVERRIDE_INPUTS__ ??= []).push(structuredClone({ name: base.name, profile, input }));
  const key = `${base.id}@${profile}`;
  if (Object.keys(input.config).length === 0 && Object.keys(input.secrets).length === 0) {
    overrides.delete(key);
    return { connection: effective(base, profile), warnings: [] };
  }
  const had = overrides.get(key)?.secrets ?? new Set<string>();
  const problems: IpcError["problems"] = [];
  for (const [field, value] of Object.entries(input.config))
    if (!value.trim())
      problems.push({ field, message: `\`${field}\` needs a value in profile \`${profile}\`; leave it out to use the connection's own` });
  for (const [field, value] of Object.entries(input.secrets))
    if (KEEP.has(value) && !had.has(field))
      problems.push({
        field,
        message: `\`${field}\` has no value in profile \`${profile}\` to keep; give one, or leave it out to use the connection's own`,
      });
  if (problems.length) fail("invalidInput", problems.map((p) => p.message).join("; "), problems);
  const config = Object.fromEntries(Object.entries(input.config).map(([field, value]) => [field, value.trim().replace(/\/+$/, "")]));
  overrides.set(key, { config, secrets: new Set(Object.keys(input.secrets)) });
  const warnings = Object.values(config).some((value) => value.startsWith("http://"))
    ? ["endpoint uses plain http: the API key would travel unencrypted"]
    : [];
  return { connection: effective(base, profile), warnings };
}

function create(raw: string): Stored {
  const name = raw.trim();
  const length = [...name].length;
  if (length < 1 || length > MAX_PROFILE_CHARS || !/^[A-Za-z0-9._-]+$/.test(name))
    fail("invalidInput", `\`${name}\` is not a valid profile name: use 1 to ${MAX_PROFILE_CHARS} letters, digits, \`-\`, \`_\` or \`.\``);
  if (profiles.some((p) => p.name.toLowerCase() === name.toLowerCase()))
    fail("conflict", `a profile named \`${name}\` already exists (names ignore case); pick another name`);
  const profile = { name, createdAt: new Date().toISOString().slice(0, 19) + "Z" };
  profiles.push(profile);
  // SQLite's ORDER BY on a NOCASE column: ASCII, case folded.
  profiles.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  return profile;
}

/** The profile a run started now uses, as AppCore reads the app's saved choice. */
export function activeProfile(): string | null {
  return active;
}

export const profileHandlers = {
  list_profiles: () => profiles.map(view),
  create_profile: ({ name }) => view(create(name)),
  delete_profile: ({ name }) => {
    const profile = find(name);
    profiles.splice(profiles.indexOf(profile), 1);
    for (const key of [...overrides.keys()]) if (key.endsWith(`@${profile.name}`)) overrides.delete(key);
    if (active === profile.name) active = null;
    return null;
  },
  active_profile: () => active,
  set_active_profile: ({ name }) => {
    active = name === null ? null : find(name).name;
    return active;
  },
  connection_in_profile: ({ name, profile }) => effective(connection(name), profile === null ? null : find(profile).name),
  set_connection_override: ({ name, profile, input }) => setOverride(connection(name), find(profile).name, input),
  clear_connection_override: ({ name, profile }) => overrides.delete(`${connection(name).id}@${find(profile).name}`),
} satisfies Partial<Handlers>;
