// A comment on the canvas. Double-click (or Enter) to edit; typing is one undo step per edit.
import { type NodeProps, NodeResizer } from "@xyflow/react";
import { memo, useState } from "react";

import type { NoteCanvasNode } from "../graph";
import { useEditor } from "../store";
import "./nodes.css";

function NoteNodeInner({ id, data, selected }: NodeProps<NoteCanvasNode>) {
  const [editing, setEditing] = useState(data.note.text === "");
  const setNoteText = useEditor((s) => s.setNoteText);
  const endCoalescing = useEditor((s) => s.endCoalescing);
  return (
    <div className="note-node" onDoubleClick={() => setEditing(true)}>
      <NodeResizer isVisible={selected} minWidth={140} minHeight={60} lineClassName="note-resize" />
      {editing ? (
        <textarea
          className="note-text nodrag nowheel"
          aria-label="Note text"
          autoFocus
          value={data.note.text}
          placeholder="Write a note…"
          onChange={(event) => setNoteText(id, event.target.value)}
          onBlur={() => {
            endCoalescing();
            setEditing(false);
          }}
          onKeyDown={(event) => {
            if (event.key === "Escape") (event.target as HTMLTextAreaElement).blur();
          }}
        />
      ) : (
        <p className="note-text" tabIndex={0} aria-label="Note; press Enter to edit" onKeyDown={(event) => event.key === "Enter" && setEditing(true)}>
          {data.note.text || "Empty note"}
        </p>
      )}
    </div>
  );
}

export const NoteNode = memo(NoteNodeInner);
