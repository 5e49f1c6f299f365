// Typed calls to the Rust profile commands (src-tauri/src/commands.rs). A profile changes some
// fields and secrets of connections; the app's runs and connection tests use the active one.
import { call } from "./client";
import type { OverrideInput } from "./generated/OverrideInput";

export const profilesIpc = {
  /** Every profile, sorted, with the active one marked. */
  list: () => call("list_profiles"),
  /** Rejects with kind `invalidInput` (a name the store refuses) or `conflict` (taken, ignoring case). */
  create: (name: string) => call("create_profile", { name }),
  /** Deletes the profile, what it changes in connections and those keychain entries. */
  remove: (name: string) => call("delete_profile", { name }),
  active: () => call("active_profile"),
  /** `null`: runs use the connections as saved. Resolves to the name as created. */
  setActive: (name: string | null) => call("set_active_profile", { name }),
  /** The connection as `profile` sees it (`null`: as saved); secrets are always `******`. */
  connection: (name: string, profile: string | null) => call("connection_in_profile", { name, profile }),
  /** Replaces what `profile` changes in the connection; secrets only travel in, never back. */
  setOverride: (name: string, profile: string, input: OverrideInput) =>
    call("set_connection_override", { name, profile, input }),
  /** Resolves to whether the profile changed anything in the connection. */
  clearOverride: (name: string, profile: string) => call("clear_connection_override", { name, profile }),
};
