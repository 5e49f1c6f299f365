import { useFiles } from "./store";
import "./files.css";

/** Offers back unsaved edits from the last session, or greets a first launch. */
export function FileBanner() {
  const recovery = useFiles((s) => s.recovery);
  const sampleHint = useFiles((s) => s.sampleHint);
  const restore = useFiles((s) => s.restoreRecovery);
  const discard = useFiles((s) => s.discardRecovery);
  const dismiss = useFiles((s) => s.dismissHint);
  if (recovery) {
    const when = new Date(recovery.saved_at_ms).toLocaleString();
    return (
      <div className="file-banner banner banner-warning" role="alertdialog" aria-label="Restore unsaved changes" data-testid="recovery-banner">
        <span>
          Restore unsaved changes to “{recovery.document.title || "Untitled flow"}” from {when}?
        </span>
        <button type="button" className="btn btn-small btn-primary" onClick={restore}>
          Restore
        </button>
        <button type="button" className="btn btn-small" onClick={() => void discard()}>
          Discard
        </button>
      </div>
    );
  }
  if (sampleHint) {
    return (
      <div className="file-banner banner banner-ok" role="note" data-testid="sample-hint">
        <span>
          This is a sample flow: select a node to edit it, drag from the palette to add, and press <kbd>?</kbd> for shortcuts.
        </span>
        <button type="button" className="btn btn-small btn-quiet" aria-label="Dismiss hint" onClick={dismiss}>
          ×
        </button>
      </div>
    );
  }
  return null;
}
