import { useState } from "react";

/** Node types to drag onto the canvas. They arrive with the flow engine; the frame is real now. */
export function Palette() {
  const [query, setQuery] = useState("");
  return (
    <aside className="palette" aria-label="Node palette">
      <h2 className="panel-title">Nodes</h2>
      <input
        type="search"
        placeholder="Search nodes"
        aria-label="Search nodes"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      <p className="empty-state">Node types appear here.</p>
    </aside>
  );
}
