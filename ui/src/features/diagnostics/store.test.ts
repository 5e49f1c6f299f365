import { beforeEach, describe, expect, it, vi } from "vitest";

import { ipc } from "../../ipc/client";
import type { Diagnostics } from "../../ipc/generated/Diagnostics";
import { initialDiagnosticsState, useDiagnostics } from "./store";

vi.mock("../../ipc/client", () => ({ ipc: { diagnostics: vi.fn() } }));
const diagnostics = vi.mocked(ipc.diagnostics);

const report: Diagnostics = {
  appVersion: "0.1.0",
  dataDir: "/data",
  database: {
    path: "/data/weft.sqlite3",
    schemaVersion: 3,
    latestSchemaVersion: 3,
    journalMode: "wal",
    busyTimeoutMs: 5000,
    ownerOnly: true,
    createdWith: null,
  },
  keychain: { backend: "mock", service: "weft", probe: { status: "ok", millis: 1 } },
  entra: [],
};

describe("diagnostics store", () => {
  beforeEach(() => {
    useDiagnostics.setState(initialDiagnosticsState);
    diagnostics.mockReset();
  });

  it("opens, checks, and keeps the report", async () => {
    diagnostics.mockResolvedValue(report);
    const opening = useDiagnostics.getState().open();
    expect(useDiagnostics.getState()).toMatchObject({ visible: true, checking: true });
    await opening;
    expect(useDiagnostics.getState()).toMatchObject({ visible: true, checking: false, report, error: null });
    expect(diagnostics).toHaveBeenCalledTimes(1);
  });

  it("replaces an earlier report with the error when a re-run fails", async () => {
    diagnostics.mockResolvedValueOnce(report).mockRejectedValueOnce({ kind: "database", message: "newer schema" });
    await useDiagnostics.getState().open();
    await useDiagnostics.getState().refresh();
    expect(useDiagnostics.getState()).toMatchObject({
      checking: false,
      report: null,
      error: { kind: "database", message: "newer schema", problems: [] },
    });
  });

  it("clears the error when the next run succeeds, and close only hides", async () => {
    diagnostics.mockRejectedValueOnce("no such command").mockResolvedValueOnce(report);
    await useDiagnostics.getState().open();
    expect(useDiagnostics.getState().error).toEqual({ kind: "internal", message: "no such command", problems: [] });
    await useDiagnostics.getState().refresh();
    useDiagnostics.getState().close();
    expect(useDiagnostics.getState()).toMatchObject({ visible: false, report, error: null });
  });
});
