// The top bar's environment profiles: the list, the active one (what the next Test run and
// connection test use), and a short notice after each change. The Rust side validates names
// and owns the active choice; this store only reflects what it answered.
import { create } from "zustand";

import { toIpcError } from "../../ipc/errors";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { ProfileView } from "../../ipc/generated/ProfileView";
import { profilesIpc } from "../../ipc/profiles";

type State = {
  profiles: ProfileView[];
  /** `null`: runs use the connections as saved. */
  active: string | null;
  loaded: boolean;
  /** A failed load, switch or delete, shown in the menu until the next success. */
  error: IpcError | null;
  /** What the last change did, for the top bar to say briefly. */
  notice: string | null;
};

type Actions = {
  load: () => Promise<void>;
  /** Makes `name` (or no profile) the one runs use; an error lands in `error`. */
  switchTo: (name: string | null) => Promise<void>;
  /** Creates a profile; rejects with the IpcError for the form to show inline. */
  create: (name: string) => Promise<ProfileView>;
  /** Deletes a profile; when it was active, runs go back to no profile. */
  remove: (name: string) => Promise<void>;
  clearNotice: () => void;
};

export type ProfilesStore = State & Actions;

export const useProfiles = create<ProfilesStore>()((set, get) => {
  /** Re-reads the list, the single source of which profile is active. */
  const refresh = async () => {
    const profiles = await profilesIpc.list();
    set({ profiles, active: profiles.find((p) => p.active)?.name ?? null, loaded: true, error: null });
  };
  return {
    profiles: [],
    active: null,
    loaded: false,
    error: null,
    notice: null,

    load: async () => {
      try {
        await refresh();
      } catch (raw) {
        set({ error: toIpcError(raw), loaded: true });
      }
    },

    switchTo: async (name) => {
      if (name === get().active) return;
      try {
        const chosen = await profilesIpc.setActive(name);
        await refresh();
        set({ notice: chosen ? `Test runs now use profile ${chosen}` : "Test runs now use no profile" });
      } catch (raw) {
        set({ error: toIpcError(raw) });
      }
    },

    create: async (name) => {
      const created = await profilesIpc.create(name);
      await refresh();
      set({ notice: `Created profile ${created.name}` });
      return created;
    },

    remove: async (name) => {
      try {
        await profilesIpc.remove(name);
        await refresh();
        set({ notice: `Deleted profile ${name}` });
      } catch (raw) {
        set({ error: toIpcError(raw) });
      }
    },

    clearNotice: () => set({ notice: null }),
  };
});
