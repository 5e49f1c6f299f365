import { describe, expect, it } from "vitest";

import { toIpcError } from "./errors";

describe("toIpcError", () => {
  it("passes a Rust IpcError through", () => {
    const raw = { kind: "invalidInput", message: "bad", problems: [{ field: "name", message: "bad" }] };
    expect(toIpcError(raw)).toEqual(raw);
  });

  it("keeps the kind of a file changed on disk, which the save flow branches on", () => {
    expect(toIpcError({ kind: "changedOnDisk", message: "changed", problems: [] }).kind).toBe("changedOnDisk");
  });

  it("keeps the kinds Rust added for busy runs and unreadable files", () => {
    expect(toIpcError({ kind: "busy", message: "a run with the id `r1` is already in progress", problems: [] }).kind).toBe("busy");
    expect(toIpcError({ kind: "io", message: "could not read a.weft.yaml: permission denied", problems: [] }).kind).toBe("io");
  });

  it("fills in missing problems", () => {
    expect(toIpcError({ kind: "keychain", message: "locked" })).toEqual({ kind: "keychain", message: "locked", problems: [] });
  });

  it("turns strings, Errors and unknown kinds into internal errors", () => {
    expect(toIpcError("command not found")).toEqual({ kind: "internal", message: "command not found", problems: [] });
    expect(toIpcError(new Error("boom")).message).toBe("boom");
    expect(toIpcError({ kind: "surprise", message: "x" }).kind).toBe("internal");
  });
});
