import { beforeEach, describe, expect, it, vi } from "vitest";

import type { IpcError } from "../../ipc/generated/IpcError";
import type { ProfileView } from "../../ipc/generated/ProfileView";

// A stand-in for the Rust side: the list is the truth about which profile is active.
let listed: ProfileView[] = [];
const list = vi.fn(() => Promise.resolve(listed.map((p) => ({ ...p }))));
const setActive = vi.fn((name: string | null) => {
  const found = name === null ? null : listed.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (found === undefined) return Promise.reject({ kind: "notFound", message: `no profile is named \`${name}\``, problems: [] } satisfies IpcError);
  listed = listed.map((p) => ({ ...p, active: p === found }));
  return Promise.resolve(found?.name ?? null);
});
const createProfile = vi.fn((name: string) => {
  if (name.includes("/"))
    return Promise.reject({ kind: "invalidInput", message: `\`${name}\` is not a valid profile name`, problems: [] } satisfies IpcError);
  const created = { name, createdAt: "2026-12-01T22:00:00Z", overrides: 0, active: false };
  listed = [...listed, created];
  return Promise.resolve(created);
});
const remove = vi.fn((name: string) => {
  listed = listed.filter((p) => p.name !== name);
  return Promise.resolve(null);
});
vi.mock("../../ipc/profiles", () => ({
  profilesIpc: {
    list: () => list(),
    setActive: (name: string | null) => setActive(name),
    create: (name: string) => createProfile(name),
    remove: (name: string) => remove(name),
    active: vi.fn(),
  },
}));

const { useProfiles } = await import("./store");

const profile = (name: string, active = false): ProfileView => ({ name, createdAt: "2026-12-01T21:00:00Z", overrides: 1, active });

beforeEach(() => {
  listed = [profile("dev", true), profile("prod")];
  vi.clearAllMocks();
  useProfiles.setState({ profiles: [], active: null, loaded: false, error: null, notice: null });
});

describe("profiles store", () => {
  it("takes the active profile from the list the Rust side returns", async () => {
    await useProfiles.getState().load();
    const state = useProfiles.getState();
    expect(state.profiles.map((p) => p.name)).toEqual(["dev", "prod"]);
    expect(state.active).toBe("dev");
    expect(state.loaded).toBe(true);
  });

  it("switches through set_active_profile, shows the name as created, and back to no profile", async () => {
    await useProfiles.getState().load();
    await useProfiles.getState().switchTo("PROD");
    expect(setActive).toHaveBeenCalledWith("PROD");
    expect(useProfiles.getState().active).toBe("prod");
    expect(useProfiles.getState().notice).toBe("Test runs now use profile prod");

    await useProfiles.getState().switchTo(null);
    expect(useProfiles.getState().active).toBeNull();
    expect(useProfiles.getState().notice).toBe("Test runs now use no profile");
  });

  it("does not call the backend to choose the profile already active", async () => {
    await useProfiles.getState().load();
    await useProfiles.getState().switchTo("dev");
    expect(setActive).not.toHaveBeenCalled();
  });

  it("keeps a failed switch's error until the next successful read", async () => {
    await useProfiles.getState().load();
    await useProfiles.getState().switchTo("qa");
    expect(useProfiles.getState().error?.kind).toBe("notFound");
    expect(useProfiles.getState().active).toBe("dev");
    await useProfiles.getState().switchTo("prod");
    expect(useProfiles.getState().error).toBeNull();
  });

  it("hands a refused name's error to the form and leaves the list as it was", async () => {
    await useProfiles.getState().load();
    await expect(useProfiles.getState().create("a/b")).rejects.toMatchObject({ kind: "invalidInput" });
    expect(useProfiles.getState().profiles).toHaveLength(2);
    expect(useProfiles.getState().error).toBeNull();

    await useProfiles.getState().create("qa");
    expect(useProfiles.getState().profiles.map((p) => p.name)).toEqual(["dev", "prod", "qa"]);
    expect(useProfiles.getState().notice).toBe("Created profile qa");
  });

  it("deleting the active profile leaves no profile active", async () => {
    listed = [profile("dev"), profile("prod", true)];
    await useProfiles.getState().load();
    await useProfiles.getState().remove("prod");
    expect(remove).toHaveBeenCalledWith("prod");
    expect(useProfiles.getState().active).toBeNull();
    expect(useProfiles.getState().profiles.map((p) => p.name)).toEqual(["dev"]);
  });
});
