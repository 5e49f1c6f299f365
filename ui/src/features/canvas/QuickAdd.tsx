// The quick-add search at the pointer: type to filter, arrows to choose, Enter to add, Esc to close.
import { useLayoutEffect, useRef, useState } from "react";

import { searchEntries } from "../palette/entries";

type Props = {
  /** The pointer, relative to the canvas. */
  at: { x: number; y: number };
  bounds: { width: number; height: number };
  onPick: (kind: string) => void;
  onClose: () => void;
};

export function QuickAdd({ at, bounds, onPick, onClose }: Props) {
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const entries = searchEntries(query);
  const chosen = Math.min(active, Math.max(entries.length - 1, 0));
  useLayoutEffect(() => input.current?.focus(), []);

  // Kept inside the canvas so the list never opens off-screen.
  const left = Math.min(at.x, bounds.width - 290);
  const top = Math.min(at.y, bounds.height - 320);

  return (
    <div className="quick-add" style={{ left: Math.max(left, 8), top: Math.max(top, 8) }} data-testid="quick-add" onDoubleClick={(e) => e.stopPropagation()}>
      <input
        ref={input}
        type="search"
        role="combobox"
        aria-expanded
        aria-controls="quick-add-list"
        aria-activedescendant={entries[chosen] ? `quick-add-${entries[chosen].kind}` : undefined}
        aria-label="Add a node"
        placeholder="Add a node…"
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
        }}
        onBlur={onClose}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown") setActive((chosen + 1) % Math.max(entries.length, 1));
          else if (event.key === "ArrowUp") setActive((chosen - 1 + entries.length) % Math.max(entries.length, 1));
          else if (event.key === "Enter" && entries[chosen]) onPick(entries[chosen].kind);
          else if (event.key === "Escape") onClose();
          else return;
          event.preventDefault();
        }}
      />
      <ul id="quick-add-list" role="listbox" aria-label="Node kinds">
        {entries.map((entry, index) => (
          <li
            key={entry.kind}
            id={`quick-add-${entry.kind}`}
            role="option"
            aria-selected={index === chosen}
            className={index === chosen ? "active" : undefined}
            onMouseDown={(event) => {
              event.preventDefault();
              onPick(entry.kind);
            }}
          >
            <span aria-hidden>{entry.icon}</span> {entry.title}
            <span className="muted"> · {entry.group}</span>
          </li>
        ))}
        {entries.length === 0 && <li className="muted">Nothing matches</li>}
      </ul>
    </div>
  );
}
