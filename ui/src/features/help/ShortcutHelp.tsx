import { create } from "zustand";

import { useModalDialog } from "../../shared/useModalDialog";
import "./help.css";

export const useHelp = create<{ open: boolean; toggle: () => void; close: () => void }>()((set) => ({
  open: false,
  toggle: () => set((s) => ({ open: !s.open })),
  close: () => set({ open: false }),
}));

const mod = typeof navigator !== "undefined" && /Mac/.test(navigator.platform) ? "⌘" : "Ctrl";

const shortcuts: [string, string][] = [
  [`${mod} N / O / S`, "New, open, save the flow"],
  [`${mod} Shift S`, "Save as"],
  [`${mod} Z`, "Undo"],
  [`${mod} Shift Z, Ctrl Y`, "Redo"],
  [`${mod} C / X / V`, "Copy, cut, paste nodes at the pointer (also into another flow)"],
  [`${mod} D`, "Duplicate the selection"],
  ["Delete, Backspace", "Delete the selected nodes and wires"],
  ["Shift drag, Shift click", "Select several"],
  ["/ or double-click", "Add a node at the pointer"],
  ["Right-click", "Run, copy or delete a node; delete a wire; add or paste on the canvas"],
  ["?", "This list"],
];

export function ShortcutHelp() {
  const open = useHelp((s) => s.open);
  const close = useHelp((s) => s.close);
  const ref = useModalDialog(open);
  return (
    <dialog ref={ref} className="diag-dialog" aria-labelledby="help-title" data-testid="shortcut-help" onClose={close}>
      <header className="dialog-head">
        <h2 id="help-title">Keyboard shortcuts</h2>
      </header>
      <dl className="diag-body shortcut-list">
        {shortcuts.map(([keys, what]) => (
          <div key={keys} className="diag-row">
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <footer className="dialog-foot">
        <button type="button" className="btn" onClick={close}>
          Close
        </button>
      </footer>
    </dialog>
  );
}
