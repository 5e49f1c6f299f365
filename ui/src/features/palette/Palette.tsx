import { useReactFlow } from "@xyflow/react";
import { type DragEvent, useState } from "react";

import { useEditor } from "../editor/store";
import { type PaletteEntry, searchEntries } from "./entries";
import "../editor/nodes/kind-icon.css";
import "./palette.css";

/** The drag payload: a node kind (or `note`). */
export const KIND_MIME = "application/x-weft-kind";

/** Node kinds to drag onto the canvas (or add with Enter at the canvas centre). */
export function Palette() {
  const [query, setQuery] = useState("");
  const entries = searchEntries(query);
  const addNode = useEditor((s) => s.addNode);
  const addNote = useEditor((s) => s.addNote);
  const { screenToFlowPosition } = useReactFlow();

  const addAtCentre = (entry: PaletteEntry) => {
    const box = document.querySelector(".canvas")?.getBoundingClientRect();
    const at = screenToFlowPosition({ x: (box?.left ?? 0) + (box?.width ?? 0) / 2, y: (box?.top ?? 0) + (box?.height ?? 0) / 2 });
    if (entry.kind === "note") addNote(at);
    else addNode(entry.kind, at);
  };
  const onDragStart = (event: DragEvent, kind: string) => {
    event.dataTransfer.setData(KIND_MIME, kind);
    event.dataTransfer.effectAllowed = "copy";
  };

  const grouped = new Map<string, PaletteEntry[]>();
  for (const entry of entries) grouped.set(entry.group, [...(grouped.get(entry.group) ?? []), entry]);

  return (
    <aside className="palette" aria-label="Node palette">
      <h2 className="panel-title">Nodes</h2>
      <input type="search" placeholder="Search nodes" aria-label="Search nodes" value={query} onChange={(event) => setQuery(event.target.value)} />
      {entries.length === 0 && <p className="empty-state">No node matches “{query}”. Try “chat”, “variable” or “condition”.</p>}
      {[...grouped].map(([group, items]) => (
        <section key={group} className="palette-group" aria-label={group}>
          <h3 className="palette-group-title">{group}</h3>
          <ul className="palette-list">
            {items.map((entry) => (
              <li
                key={entry.kind}
                className="palette-item"
                data-testid={`palette-item-${entry.kind}`}
                draggable
                tabIndex={0}
                aria-label={`${entry.title}: ${entry.description} Drag onto the canvas or press Enter to add.`}
                onDragStart={(event) => onDragStart(event, entry.kind)}
                onDoubleClick={() => addAtCentre(entry)}
                onKeyDown={(event) => {
                  if (event.key === "Enter") addAtCentre(entry);
                }}
              >
                <span className="palette-icon" aria-hidden>
                  {entry.icon}
                </span>
                <span className="palette-text">
                  <span className="palette-name">{entry.title}</span>
                  <span className="palette-desc">{entry.description}</span>
                </span>
              </li>
            ))}
          </ul>
        </section>
      ))}
      <p className="palette-tip muted">
        Tip: double-click the canvas or press <kbd>/</kbd> to add at the pointer; <kbd>?</kbd> lists shortcuts.
      </p>
    </aside>
  );
}
