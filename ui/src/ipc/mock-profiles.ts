// The profile commands for browser tests, behaving like the Rust contract
// (crates/weft-store/src/connections/store/profiles.rs): names of 1 to 32 letters, digits, `-`,
// `_` or `.`, unique ignoring case; the active choice survives until switched or deleted; the
// errors carry the Rust messages word for word.
import type { IpcError } from "./generated/IpcError";
import type { ProfileView } from "./generated/ProfileView";

const MAX_PROFILE_CHARS = 32;

type Stored = { name: string; createdAt: string };

const profiles: Stored[] = [];
let active: string | null = null;

function fail(kind: IpcError["kind"], message: string): never {
  throw { kind, message, problems: [] } satisfies IpcError;
}

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
  return { name: profile.name, createdAt: profile.createdAt, overrides: 0, active: active === profile.name };
}

function create(raw: string): ProfileView {
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
  return view(profile);
}

/** The profile a run started now uses, as AppCore reads the app's saved choice. */
export function activeProfile(): string | null {
  return active;
}

const COMMANDS = new Set(["list_profiles", "create_profile", "delete_profile", "active_profile", "set_active_profile"]);

export function isProfileCommand(command: string): boolean {
  return COMMANDS.has(command);
}

export function profileCommand(command: string, args: Record<string, unknown>): unknown {
  switch (command) {
    case "list_profiles":
      return profiles.map(view);
    case "create_profile":
      return create(String(args.name ?? ""));
    case "delete_profile": {
      const profile = find(String(args.name ?? ""));
      profiles.splice(profiles.indexOf(profile), 1);
      if (active === profile.name) active = null;
      return null;
    }
    case "active_profile":
      return active;
    case "set_active_profile":
      active = args.name == null ? null : find(String(args.name)).name;
      return active;
    default:
      return fail("internal", `the mock has no command ${command}`);
  }
}
