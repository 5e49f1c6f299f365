import { selectDirty, useEditor } from "../editor/store";
import { fileName, useFiles } from "./store";
import "./files.css";

/** New, Open (with the recent flows), Save and Save as, in the top bar. */
export function FileMenu() {
  const recent = useFiles((s) => s.recent);
  const { newFlow, openFlow, save, saveAs } = useFiles.getState();
  const dirty = useEditor(selectDirty);
  return (
    <div className="file-menu" role="group" aria-label="File">
      <button type="button" className="btn btn-small" data-testid="file-new" onClick={() => void newFlow()}>
        New
      </button>
      <button type="button" className="btn btn-small" data-testid="file-open" onClick={() => void openFlow()}>
        Open…
      </button>
      {recent.length > 0 && (
        <select
          className="btn-small recent"
          aria-label="Open a recent flow"
          data-testid="file-recent"
          value=""
          onChange={(event) => event.target.value && void openFlow(event.target.value)}
        >
          <option value="">Recent</option>
          {recent.map((path) => (
            <option key={path} value={path} title={path}>
              {fileName(path)}
            </option>
          ))}
        </select>
      )}
      <button type="button" className="btn btn-small" data-testid="file-save" onClick={() => void save()} title={dirty ? "Save unsaved changes" : "Save"}>
        Save
      </button>
      <button type="button" className="btn btn-small btn-quiet" data-testid="file-save-as" onClick={() => void saveAs()}>
        Save as…
      </button>
    </div>
  );
}

/** The `•` of a flow with unsaved changes. */
export function DirtyMarker() {
  const dirty = useEditor(selectDirty);
  return dirty ? (
    <span className="dirty-marker" data-testid="dirty-marker" title="Unsaved changes" aria-label="unsaved changes">
      •
    </span>
  ) : null;
}
