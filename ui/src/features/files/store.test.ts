import { beforeEach, describe, expect, it, vi } from "vitest";

import type { FileVersion } from "../../ipc/generated/FileVersion";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { OpenedFlow } from "../../ipc/generated/OpenedFlow";
import type { Replace } from "../../ipc/generated/Replace";

const items = new Map<string, string>();
vi.stubGlobal("localStorage", {
  getItem: (k: string) => items.get(k) ?? null,
  setItem: (k: string, v: string) => void items.set(k, v),
});

const openFlow = vi.fn<(path: string) => Promise<OpenedFlow>>();
const saveFlow = vi.fn<(path: string, document: FlowDocument, replace: Replace) => Promise<FileVersion>>();
const saveRecovery = vi.fn<(path: string | null, version: FileVersion | null, document: FlowDocument) => Promise<void>>();
const confirm = vi.fn<(message: string, ok: string, cancel?: string) => Promise<boolean>>();
const saveFlowPath = vi.fn<(suggested: string) => Promise<string | null>>();
vi.mock("../../ipc/client", () => ({
  ipc: {
    openFlow: (p: string) => openFlow(p),
    saveFlow: (p: string, d: FlowDocument, r: Replace) => saveFlow(p, d, r),
    saveRecovery: (p: string | null, v: FileVersion | null, d: FlowDocument) => saveRecovery(p, v, d),
    clearRecovery: () => Promise.resolve(),
  },
}));
vi.mock("../../ipc/dialog", () => ({
  dialogs: {
    confirm: (m: string, ok: string, cancel?: string) => confirm(m, ok, cancel),
    openFlowPath: () => Promise.resolve(null),
    saveFlowPath: (s: string) => saveFlowPath(s),
  },
}));

const { initialEditorState, selectDirty, useEditor } = await import("../editor/store");
const { useFiles } = await import("./store");
const { recoveryAutosave } = await import("./autosave");

const PATH = "/flows/shared.weft.yaml";
const flow: FlowDocument = { schema: 1, title: "Shared", nodes: [{ id: "inputs", type: "inputs", position: { x: 0, y: 0 } }] };
const changedOnDisk: IpcError = { kind: "changedOnDisk", message: `${PATH} changed on disk since it was opened`, problems: [] };
const editor = () => useEditor.getState();
const edit = () => editor().addNode("prompt_template", { x: 10, y: 10 });

describe("saving a file that changed on disk", () => {
  beforeEach(async () => {
    vi.clearAllMocks();
    useEditor.setState(initialEditorState);
    openFlow.mockResolvedValue({ path: PATH, document: flow, version: "v1" });
    expect(await useFiles.getState().openFlow(PATH)).toBe(true);
    edit();
  });

  it("sends the version read at open; on a conflict it asks, and No keeps the edits unsaved", async () => {
    saveFlow.mockRejectedValueOnce(changedOnDisk);
    confirm.mockResolvedValueOnce(false);
    expect(await useFiles.getState().save()).toBe(false);
    expect(saveFlow).toHaveBeenCalledTimes(1);
    expect(saveFlow.mock.calls[0]![2]).toEqual({ mode: "ifUnchanged", version: "v1" });
    expect(confirm.mock.calls[0]![0]).toBe("The file changed on disk since you opened it. Overwrite it?");
    expect(selectDirty(editor())).toBe(true);
    expect(editor().document.nodes.map((n) => n.id)).toEqual(["inputs", "prompt"]);
  });

  it("on Yes overwrites, and the next save checks against the version it wrote", async () => {
    saveFlow.mockRejectedValueOnce(changedOnDisk).mockResolvedValueOnce("v2");
    confirm.mockResolvedValueOnce(true);
    expect(await useFiles.getState().save()).toBe(true);
    expect(saveFlow.mock.calls.map((c) => c[2])).toEqual([{ mode: "ifUnchanged", version: "v1" }, { mode: "any" }]);
    expect(selectDirty(editor())).toBe(false);

    edit();
    saveFlow.mockResolvedValueOnce("v3");
    expect(await useFiles.getState().save()).toBe(true);
    expect(saveFlow.mock.calls[2]![2]).toEqual({ mode: "ifUnchanged", version: "v2" });
    expect(confirm).toHaveBeenCalledTimes(1);
  });

  it("shows any other failure without asking", async () => {
    saveFlow.mockRejectedValueOnce({ kind: "invalidInput", message: "disk full", problems: [] } satisfies IpcError);
    expect(await useFiles.getState().save()).toBe(false);
    expect(confirm).not.toHaveBeenCalled();
    expect(editor().notice).toMatchObject({ tone: "error", text: "Could not save shared.weft.yaml: disk full" });
  });

  it("Save as replaces whatever the chosen file holds: the save dialog already asked", async () => {
    saveFlowPath.mockResolvedValueOnce("/flows/copy.weft.yaml");
    saveFlow.mockResolvedValueOnce("v9");
    expect(await useFiles.getState().saveAs()).toBe(true);
    expect(saveFlow).toHaveBeenCalledWith("/flows/copy.weft.yaml", expect.anything(), { mode: "any" });
  });
});

describe("autosave of the recovery copy", () => {
  beforeEach(async () => {
    vi.clearAllMocks();
    useEditor.setState(initialEditorState);
    openFlow.mockResolvedValue({ path: PATH, document: flow, version: "v1" });
    await useFiles.getState().openFlow(PATH);
  });

  it("keeps the file's version with the copy, and reports a failure once until a save works again", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const autosave = recoveryAutosave();
    const failure = { kind: "dataFolder", message: "the data folder is read-only", problems: [] } satisfies IpcError;
    saveRecovery.mockRejectedValueOnce(failure).mockRejectedValueOnce(failure).mockResolvedValueOnce();

    edit();
    await autosave();
    expect(saveRecovery.mock.calls[0]!.slice(0, 2)).toEqual([PATH, "v1"]);
    expect(editor().notice).toMatchObject({ tone: "error", text: "Autosave failed: the data folder is read-only. Save the flow to keep your edits safe." });
    const shown = editor().notice!.seq;

    // The same edits are tried again on the next tick, without a second notice.
    await autosave();
    expect(saveRecovery).toHaveBeenCalledTimes(2);
    expect(editor().notice!.seq).toBe(shown);
    // Each failure is still logged.
    expect(warn).toHaveBeenCalledTimes(2);
    await autosave();
    expect(saveRecovery).toHaveBeenCalledTimes(3);
    await autosave();
    expect(saveRecovery).toHaveBeenCalledTimes(3);

    // After a success, a new failure is news again.
    edit();
    saveRecovery.mockRejectedValueOnce(failure);
    await autosave();
    expect(editor().notice!.seq).toBeGreaterThan(shown);
    warn.mockRestore();
  });
});

describe("the first-start hint", () => {
  it("goes away when the first run starts, and is remembered as seen", async () => {
    const { useRun } = await import("../run/store");
    items.delete("weft.sampleHintSeen");
    useFiles.setState({ sampleHint: true });
    useRun.setState({ phase: "validating" });
    expect(useFiles.getState().sampleHint).toBe(true);
    useRun.setState({ phase: "running" });
    expect(useFiles.getState().sampleHint).toBe(false);
    expect(items.get("weft.sampleHintSeen")).toBe("1");
    useRun.setState({ phase: "idle" });
  });
});
