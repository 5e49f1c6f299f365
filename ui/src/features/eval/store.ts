// The Evaluate panel: an eval file opened or made with the form, saved, run with live progress
// per variant, and a report (the one just run, or one from the stored evals) read in the results
// grid against a chosen baseline. An eval runs the saved files (its own, the flow's), so Run
// saves the form first and asks for the flow's save when the editor has unsaved changes.
import { create } from "zustand";

import { batchIpc } from "../../ipc/batch";
import { toIpcError } from "../../ipc/errors";
import type { EvalEvent } from "../../ipc/generated/EvalEvent";
import type { EvalReport } from "../../ipc/generated/EvalReport";
import type { EvalView } from "../../ipc/generated/EvalView";
import { evalDialogs, evalIpc } from "../../ipc/eval";
import type { CassetteSwitch } from "../../ipc/generated/CassetteSwitch";
import type { DataPreview } from "../../ipc/generated/DataPreview";
import type { IpcError } from "../../ipc/generated/IpcError";
import { entriesFrom } from "../../shared/dataset/mapping";
import { selectDirty, useEditor } from "../editor/store";
import { type AssertionDraft, type EvalForm, type FormErrors, type VariantDraft, emptyAssertion, fileOf, formOf, newForm } from "./form";
import { evalPathFor, fileName, relativeTo, resolveFrom } from "./paths";
import { type EvalProgress, noProgress, progressReducer } from "./progress";

const HISTORY_LIMIT = 50;

export type EvalState = {
  open: boolean;
  /** The eval file the form is of; `null`: a new eval not saved yet. */
  path: string | null;
  form: EvalForm | null;
  /** The form changed since it was opened or saved. */
  edited: boolean;
  /** What the last save or run found wrong in the form, per field. */
  errors: FormErrors;
  saved: string | null;
  preview: DataPreview | null;
  previewError: IpcError | null;
  /** idle → running (the command is pending) → idle. */
  phase: "idle" | "running";
  cancelling: boolean;
  evalId: string | null;
  progress: EvalProgress;
  /** Model calls recorded to, or replayed from, `<eval stem>.cassette.jsonl` beside the eval file. */
  cassette: CassetteSwitch;
  /** The report the results side shows. */
  report: EvalReport | null;
  /** A stored eval run whose verdicts the grid compares with. */
  baseline: string | null;
  /** Why the last open, save, run, cancel or read failed. */
  error: IpcError | null;
  history: EvalView[] | null;
};

export type EvalActions = {
  openPanel: () => void;
  close: () => void;
  /** Opens an eval file chosen in the dialog. */
  openFile: () => Promise<void>;
  openPath: (path: string) => Promise<void>;
  /** A new eval of the flow open in the editor. */
  create: () => void;
  edit: (change: (form: EvalForm) => EvalForm) => void;
  setAssertion: (index: number, draft: AssertionDraft) => void;
  addAssertion: () => void;
  removeAssertion: (index: number) => void;
  setVariant: (index: number, draft: VariantDraft) => void;
  addVariant: () => void;
  removeVariant: (index: number) => void;
  chooseData: () => Promise<void>;
  save: () => Promise<boolean>;
  run: () => Promise<void>;
  cancel: () => Promise<void>;
  setCassette: (mode: CassetteSwitch) => void;
  setBaseline: (id: string | null) => void;
  loadHistory: () => Promise<void>;
  /** Shows a stored eval run's report. */
  show: (id: string) => Promise<void>;
};

export type EvalStore = EvalState & EvalActions;

function inputNames(): string[] {
  return Object.keys(useEditor.getState().document.inputs ?? {});
}

/** The flow file the eval runs: its `flow`, against the eval file's folder (a new eval: beside the open flow). */
export function evalFlowPath(state: Pick<EvalState, "path" | "form">, editorPath: string | null): string | null {
  if (!state.form) return null;
  if (!state.path) return editorPath;
  return resolveFrom(state.path, state.form.flow);
}

/** Why the eval cannot run the flow as the editor shows it: the editor holds unsaved changes of
 * that very file (an eval runs the file). `null`: it can. */
export function unsavedFlow(state: Pick<EvalState, "path" | "form">, editor: { path: string | null; dirty: boolean }): string | null {
  if (!state.form) return null;
  const flow = evalFlowPath(state, editor.path);
  if (!flow) return "Save the flow first: an eval runs the saved flow file.";
  return flow === editor.path && editor.dirty ? "Save the flow first: an eval runs the saved file, not the editor's changes." : null;
}

// Each eval the panel runs gets a number; events of an earlier one arriving late are dropped.
let seq = 0;

export const useEval = create<EvalStore>()((set, get) => {
  /** Reads the data file's first rows, for the preview and the mapping's columns. */
  async function preview() {
    const { form, path } = get();
    if (!form?.data.trim()) {
      set({ preview: null, previewError: null });
      return;
    }
    const base = path ?? evalPathFor(useEditor.getState().path ?? "");
    const data = resolveFrom(base, form.data.trim());
    try {
      const shown = await batchIpc.preview(useEditor.getState().document, data);
      if (get().form?.data !== form.data) return;
      // Inputs the file left unmapped get the mapping Rust proposes for the columns.
      const proposed = entriesFrom(inputNames(), shown.mapping);
      const entries = { ...proposed, ...Object.fromEntries(Object.entries(form.entries).filter(([, e]) => e.kind !== "unmapped")) };
      set((s) => ({ preview: shown, previewError: null, form: s.form ? { ...s.form, entries } : s.form }));
    } catch (raw) {
      if (get().form?.data === form.data) set({ preview: null, previewError: toIpcError(raw) });
    }
  }

  function change(update: (form: EvalForm) => EvalForm) {
    const form = get().form;
    if (!form) return;
    set({ form: update(form), edited: true, saved: null });
  }

  function onEvent(mine: number, event: EvalEvent) {
    if (mine === seq) set((s) => ({ progress: progressReducer(s.progress, event) }));
  }

  async function openEval(path: string, { missing }: { missing: "error" | "quiet" }) {
    if (get().phase !== "idle") return;
    try {
      const view = await evalIpc.open(path);
      set({ path, form: formOf(view.file, inputNames()), edited: false, errors: {}, saved: null, error: null, preview: null, previewError: null });
      await preview();
    } catch (raw) {
      const error = toIpcError(raw);
      if (missing === "error" || error.kind !== "notFound") set({ error });
    }
  }

  /** The panel opened with nothing in it shows the open flow's own eval (`chat.weft.yaml` →
   * `chat.eval.yaml` beside it, where New saves one) when there is one; none is no error. */
  async function openOwnEval() {
    const flow = useEditor.getState().path;
    if (get().form || !flow) return;
    await openEval(evalPathFor(flow), { missing: "quiet" });
  }

  return {
    open: false,
    path: null,
    form: null,
    edited: false,
    errors: {},
    saved: null,
    preview: null,
    previewError: null,
    phase: "idle",
    cancelling: false,
    evalId: null,
    progress: noProgress(),
    cassette: "off",
    report: null,
    baseline: null,
    error: null,
    history: null,

    openPanel: () => {
      set({ open: true });
      void get().loadHistory();
      void openOwnEval();
    },
    close: () => set({ open: false }),

    openFile: async () => {
      try {
        const path = await evalDialogs.openEvalPath();
        if (path) await get().openPath(path);
      } catch (raw) {
        set({ error: toIpcError(raw) });
      }
    },

    openPath: (path) => openEval(path, { missing: "error" }),

    create: () => {
      const editor = useEditor.getState();
      if (get().phase !== "idle" || !editor.path) return;
      const form = newForm(fileName(editor.path), editor.document.title ?? "", inputNames());
      set({ path: null, form, edited: true, errors: {}, saved: null, error: null, preview: null, previewError: null });
    },

    edit: change,
    setAssertion: (index, draft) => change((f) => ({ ...f, assertions: f.assertions.map((a, i) => (i === index ? draft : a)) })),
    addAssertion: () => change((f) => ({ ...f, assertions: [...f.assertions, emptyAssertion()] })),
    removeAssertion: (index) => change((f) => ({ ...f, assertions: f.assertions.filter((_, i) => i !== index) })),
    setVariant: (index, draft) => change((f) => ({ ...f, variants: f.variants.map((v, i) => (i === index ? draft : v)) })),
    addVariant: () =>
      change((f) => ({ ...f, variants: [...f.variants, { name: f.variants.length ? `variant ${f.variants.length + 1}` : "baseline", sets: [] }] })),
    removeVariant: (index) => change((f) => ({ ...f, variants: f.variants.filter((_, i) => i !== index) })),

    chooseData: async () => {
      try {
        const picked = await evalDialogs.openDataPath();
        if (!picked) return;
        const base = get().path ?? evalPathFor(useEditor.getState().path ?? picked);
        change((f) => ({ ...f, data: relativeTo(base, picked) }));
        await preview();
      } catch (raw) {
        set({ previewError: toIpcError(raw) });
      }
    },

    save: async () => {
      let form = get().form;
      if (!form) return false;
      const first = fileOf(form);
      if (!first.ok) {
        set({ errors: first.errors });
        return false;
      }
      try {
        let path = get().path;
        if (!path) {
          // A new eval's paths are relative to where it goes by default, beside the flow; saved
          // elsewhere, they are written relative to where it went.
          const suggested = evalPathFor(useEditor.getState().path ?? "flow.weft.yaml");
          path = await evalDialogs.saveEvalPath(suggested);
          if (!path) return false;
          const to = path;
          const moved = (p: string) => relativeTo(to, resolveFrom(suggested, p));
          form = { ...form, flow: moved(form.flow), data: moved(form.data) };
        }
        const checked = fileOf(form);
        if (!checked.ok) return false;
        // The resolved paths are the core's to fill on open; save reads only the file.
        await evalIpc.save(path, { file: checked.file, flow_path: "", data_path: "" });
        set({ path, edited: false, errors: {}, saved: path, error: null, form: { ...form, base: checked.file } });
        return true;
      } catch (raw) {
        set({ error: toIpcError(raw) });
        return false;
      }
    },

    run: async () => {
      if (get().phase !== "idle" || !get().form) return;
      const editor = useEditor.getState();
      const unsaved = unsavedFlow(get(), { path: editor.path, dirty: selectDirty(editor) });
      if (unsaved) {
        set({ error: { kind: "invalidInput", message: unsaved, problems: [] } });
        return;
      }
      if ((get().edited || !get().path) && !(await get().save())) return;
      const path = get().path;
      if (!path) return;
      const mine = ++seq;
      const evalId = crypto.randomUUID();
      const baseline = get().baseline;
      set({ phase: "running", cancelling: false, evalId, error: null, progress: noProgress(), report: null });
      try {
        const report = await evalIpc.run({ evalId, path, variants: [], baseline, concurrency: "auto", cassette: get().cassette }, (e) => onEvent(mine, e));
        if (mine === seq) set({ report });
      } catch (raw) {
        if (mine === seq) set({ error: toIpcError(raw) });
      } finally {
        if (mine === seq) set({ phase: "idle", cancelling: false });
        void get().loadHistory();
      }
    },

    cancel: async () => {
      const id = get().evalId;
      if (get().phase !== "running" || !id) return;
      set({ cancelling: true });
      try {
        await evalIpc.cancel(id);
      } catch (raw) {
        set({ cancelling: false, error: toIpcError(raw) });
      }
    },

    setCassette: (cassette) => set({ cassette }),
    setBaseline: (baseline) => set({ baseline }),

    loadHistory: async () => {
      try {
        set({ history: await evalIpc.list(HISTORY_LIMIT) });
      } catch (raw) {
        set({ error: toIpcError(raw) });
      }
    },

    show: async (id) => {
      if (get().phase !== "idle") return;
      try {
        const report = await evalIpc.report(id);
        set({ report, progress: noProgress(), error: null, baseline: get().baseline === id ? null : get().baseline });
      } catch (raw) {
        set({ error: toIpcError(raw) });
      }
    },
  };
});
