// Test runs: validate, ask for inputs, run with streamed events, and the run panel's view of the
// result and the history. The per-node run state lives in `live.nodes`, one object per node, so a
// node's badge re-renders only when an event touches that node.
import { create } from "zustand";

import { ipc } from "../../ipc/client";
import { toIpcError } from "../../ipc/errors";
import type { CassetteSwitch } from "../../ipc/generated/CassetteSwitch";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { RunPlan } from "../../ipc/generated/RunPlan";
import type { RunView } from "../../ipc/generated/RunView";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { runsIpc } from "../../ipc/runs";
import { isRunnable } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { type Drafts, type InputField, initialDrafts, inputFields, parseInputs, recallInputs, rememberInputs } from "./inputs";
import { type RunState, applySummary, emptyRun, fromStoredRun, prepareRun, runReducer } from "./reducer";

export type RunTab = "problems" | "run" | "history";
export type RunMode = "only" | "from";

/** What the inputs dialog is asking for: the run it will start and the form's current values. */
export type InputsRequest = {
  plan: RunPlan;
  fields: InputField[];
  drafts: Drafts;
  errors: Record<string, string>;
};

export type StoredRunShown = { run: RunView; state: RunState };

export type RunStoreState = {
  /** idle → validating → asking (inputs dialog) → running → idle. */
  phase: "idle" | "validating" | "asking" | "running";
  cancelling: boolean;
  /** The run of this session: streaming while `phase` is running, the last result after. */
  live: RunState;
  /** The flow file the live run belongs to. */
  livePath: string | null;
  /** A run reopened from history, shown in the Run tab instead of the live one. */
  stored: StoredRunShown | null;
  /** Why the last run could not start or the history could not load. */
  error: IpcError | null;
  request: InputsRequest | null;
  selectedNode: string | null;
  panelOpen: boolean;
  tab: RunTab;
  panelHeight: number;
  history: RunView[] | null;
  historyLoading: boolean;
  historyError: IpcError | null;
  /** Model calls live, recorded to or replayed from the cassette beside the flow file. */
  cassette: CassetteSwitch;
};

export type RunStoreActions = {
  /** The Test run button: validate, ask for inputs, run the whole flow. */
  testRun: () => Promise<void>;
  /** Runs one node on the last run's results (`only`), or it and what follows (`from`). */
  runNode: (id: string, mode: RunMode) => Promise<void>;
  setDraft: (name: string, value: string) => void;
  submitInputs: () => Promise<void>;
  dismissInputs: () => void;
  cancel: () => Promise<void>;
  selectNode: (id: string | null) => void;
  showTab: (tab: RunTab) => void;
  togglePanel: () => void;
  setPanelHeight: (height: number) => void;
  loadHistory: () => Promise<void>;
  reopen: (id: string) => Promise<void>;
  showLive: () => void;
  setCassette: (mode: CassetteSwitch) => void;
};

export type RunStore = RunStoreState & RunStoreActions;

export const PANEL_MIN = 120;
export const PANEL_MAX = 640;
const PANEL_DEFAULT = 260;
const HEIGHT_KEY = "weft.runPanelHeight";

function savedHeight(): number {
  try {
    const stored = Number(localStorage.getItem(HEIGHT_KEY));
    return stored >= PANEL_MIN && stored <= PANEL_MAX ? stored : PANEL_DEFAULT;
  } catch {
    return PANEL_DEFAULT;
  }
}

/** The flow as the editor holds it right now. */
function currentFlow(): { document: FlowDocument; path: string | null } {
  const { document, path } = useEditor.getState();
  return { document, path };
}

/** The nodes a plan will touch: all, one, or one and everything wired downstream of it. */
function plannedNodes(document: FlowDocument, plan: RunPlan): string[] {
  // Flow ports only show the flow's inputs and outputs; the engine never runs them.
  const runs = new Set(document.nodes.filter((n) => isRunnable(n.type)).map((n) => n.id));
  return plannedFrom(document, plan).filter((id) => runs.has(id));
}

function plannedFrom(document: FlowDocument, plan: RunPlan): string[] {
  if (plan.mode === "all") return document.nodes.map((n) => n.id);
  if (plan.mode === "only") return [plan.node];
  const next = new Map<string, string[]>();
  for (const edge of useEditor.getState().edges) next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  const seen = new Set([plan.node]);
  const stack = [plan.node];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    for (const target of next.get(id) ?? []) {
      if (seen.has(target)) continue;
      seen.add(target);
      stack.push(target);
    }
  }
  return [...seen];
}

// Inputs of the last run, secrets included, so Run this node / Run from here need not ask again.
// Memory only: never stored, gone when the window closes.
let lastInputs: { path: string | null; names: string; values: Record<string, JsonValue> } | null = null;
// Each run gets a number; events from an earlier run's channel arriving late are dropped.
let runSeq = 0;
// The id of the run in progress, which Cancel names.
let runningId: string | null = null;

export const useRun = create<RunStore>()((set, get) => {
  async function execute(plan: RunPlan, inputs: Record<string, JsonValue>) {
    const { document, path } = currentFlow();
    const seq = ++runSeq;
    const before = get().live;
    const nodeIds = document.nodes.map((n) => n.id);
    set({
      phase: "running",
      cancelling: false,
      error: null,
      request: null,
      stored: null,
      livePath: path,
      live: prepareRun(nodeIds, plannedNodes(document, plan)),
      panelOpen: true,
      tab: "run",
      selectedNode: plan.mode === "all" ? get().selectedNode : plan.node,
    });
    const runId = crypto.randomUUID();
    runningId = runId;
    try {
      // An unsaved flow has no place for a cassette: its runs are live.
      const cassette = path ? get().cassette : "off";
      const summary = await runsIpc.run({ document, path, inputs, plan, runId, cassette }, (event) => {
        if (seq === runSeq) set((s) => ({ live: runReducer(s.live, event) }));
      });
      if (seq === runSeq) set((s) => ({ live: applySummary(s.live, summary) }));
    } catch (raw) {
      // The run did not start (invalid flow or inputs, another run, nothing to reuse): the
      // previous result stays on screen under the reason.
      if (seq === runSeq) set({ live: before, error: toIpcError(raw) });
    } finally {
      if (runningId === runId) runningId = null;
      if (seq === runSeq) set({ phase: "idle", cancelling: false });
      if (get().history) void get().loadHistory();
    }
  }

  async function begin(plan: RunPlan) {
    if (get().phase !== "idle") return;
    const { document, path } = currentFlow();
    set({ phase: "validating", error: null });
    let secret: Set<string>;
    try {
      const diagnostics = await ipc.validateFlow(document);
      useEditor.getState().setDiagnostics(diagnostics);
      if (diagnostics.some((d) => d.severity === "error")) {
        set({ phase: "idle", panelOpen: true, tab: "problems" });
        return;
      }
      secret = new Set(await ipc.secretInputs(document));
    } catch (raw) {
      set({ phase: "idle", error: toIpcError(raw), panelOpen: true, tab: "run", stored: null });
      return;
    }
    const fields = inputFields(document, secret);
    const names = fields.map((f) => f.name).join("\n");
    if (plan.mode !== "all" && lastInputs && lastInputs.path === path && lastInputs.names === names) {
      await execute(plan, lastInputs.values);
      return;
    }
    if (!fields.length) {
      lastInputs = { path, names, values: {} };
      await execute(plan, {});
      return;
    }
    const remembered = recallInputs(localStorage, path);
    set({ phase: "asking", request: { plan, fields, drafts: initialDrafts(fields, remembered), errors: {} } });
  }

  return {
    phase: "idle",
    cancelling: false,
    live: emptyRun(),
    livePath: null,
    stored: null,
    error: null,
    request: null,
    selectedNode: null,
    panelOpen: false,
    tab: "run",
    panelHeight: savedHeight(),
    history: null,
    historyLoading: false,
    historyError: null,
    cassette: "off",

    testRun: () => begin({ mode: "all" }),
    runNode: (id, mode) => begin({ mode, node: id }),

    setDraft: (name, value) =>
      set((s) => {
        if (!s.request) return {};
        const { [name]: _cleared, ...errors } = s.request.errors;
        void _cleared;
        return { request: { ...s.request, drafts: { ...s.request.drafts, [name]: value }, errors } };
      }),

    submitInputs: async () => {
      const request = get().request;
      if (!request || get().phase !== "asking") return;
      const parsed = parseInputs(request.fields, request.drafts);
      if (!parsed.ok) {
        set({ request: { ...request, errors: parsed.errors } });
        return;
      }
      const { path } = currentFlow();
      rememberInputs(localStorage, path, request.fields, parsed.values);
      lastInputs = { path, names: request.fields.map((f) => f.name).join("\n"), values: parsed.values };
      await execute(request.plan, parsed.values);
    },

    dismissInputs: () => set((s) => (s.phase === "asking" ? { phase: "idle", request: null } : {})),

    cancel: async () => {
      if (get().phase !== "running" || !runningId) return;
      set({ cancelling: true });
      try {
        await runsIpc.cancel(runningId);
      } catch (raw) {
        set({ cancelling: false, error: toIpcError(raw) });
      }
    },

    selectNode: (id) => set({ selectedNode: id }),
    showTab: (tab) => {
      set({ tab, panelOpen: true });
      if (tab === "history") void get().loadHistory();
    },
    togglePanel: () => set((s) => ({ panelOpen: !s.panelOpen })),
    setPanelHeight: (height) => {
      const clamped = Math.round(Math.min(PANEL_MAX, Math.max(PANEL_MIN, height)));
      set({ panelHeight: clamped });
      try {
        localStorage.setItem(HEIGHT_KEY, String(clamped));
      } catch {
        // Only the panel's height is lost.
      }
    },

    loadHistory: async () => {
      set({ historyLoading: true });
      try {
        set({ history: await runsIpc.list(50), historyLoading: false, historyError: null });
      } catch (raw) {
        set({ historyLoading: false, historyError: toIpcError(raw) });
      }
    },

    reopen: async (id) => {
      try {
        const run = await runsIpc.get(id);
        set({ stored: { run, state: fromStoredRun(run) }, tab: "run", panelOpen: true, selectedNode: null, error: null });
      } catch (raw) {
        set({ historyError: toIpcError(raw) });
      }
    },

    showLive: () => set({ stored: null, selectedNode: null }),
    setCassette: (cassette) => set({ cassette }),
  };
});

// Another flow opened (or New): the last run's badges belong to the old one, even where node ids
// repeat. A load is the one change that replaces the document with an empty undo history.
useEditor.subscribe((editor, before) => {
  const loaded =
    editor.document !== before.document &&
    editor.past.length === 0 &&
    editor.future.length === 0 &&
    (editor.document === editor.savedDocument || editor.path !== before.path);
  if (loaded && useRun.getState().phase === "idle") useRun.setState({ live: emptyRun(), selectedNode: null, error: null, stored: null });
});
