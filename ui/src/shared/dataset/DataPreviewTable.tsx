// A data file's first rows as read (a row that could not be read shows why), for the Batch and
// Evaluate panels.
import type { DataPreview } from "../../ipc/generated/DataPreview";
import "./dataset.css";

const PREVIEW_SHOWN = 5;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function DataPreviewTable({ preview, testId = "batch-preview" }: { preview: DataPreview; testId?: string }) {
  const rows = preview.rows.slice(0, PREVIEW_SHOWN);
  return (
    <div className="batch-preview-scroll">
      <table className="batch-preview" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Line</th>
            {preview.columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.row} className={row.error ? "batch-preview-bad" : undefined}>
              <td className="muted">{row.line}</td>
              {row.fields ? (
                preview.columns.map((c) => <td key={c}>{cell(row.fields?.[c])}</td>)
              ) : (
                <td colSpan={preview.columns.length} className="batch-preview-error">
                  {row.error}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
