// Typed calls to the Rust profile commands (src-tauri/src/commands.rs). A profile changes some
// fields and secrets of connections; the app's runs and connection tests use the active one.
import { call } from "./client";
import type { ProfileView } from "./generated/ProfileView";

export const profilesIpc = {
  /** Every profile, sorted, with the active one marked. */
  list: () => call<ProfileView[]>("list_profiles"),
  /** Rejects with kind `invalidInput` (a name the store refuses) or `conflict` (taken, ignoring case). */
  create: (name: string) => call<ProfileView>("create_profile", { name }),
  /** Deletes the profile, what it changes in connections and those keychain entries. */
  remove: (name: string) => call<null>("delete_profile", { name }),
  active: () => call<string | null>("active_profile"),
  /** `null`: runs use the connections as saved. Resolves to the name as created. */
  setActive: (name: string | null) => call<string | null>("set_active_profile", { name }),
};
