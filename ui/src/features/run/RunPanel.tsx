// The bottom panel: Problems, Run and History. Its height is the user's (drag or arrow keys on the
// divider) and it collapses to its tab bar, so the canvas never jumps while a run streams.
import { type KeyboardEvent, type PointerEvent, useRef } from "react";
import { useShallow } from "zustand/react/shallow";

import { useEditor } from "../editor/store";
import { HistoryTab } from "./HistoryTab";
import { ProblemsTab } from "./ProblemsTab";
import { RunTab } from "./RunTab";
import { PANEL_MAX, PANEL_MIN, type RunTab as Tab, useRun } from "./store";
import "./run.css";

const TABS: { tab: Tab; label: string }[] = [
  { tab: "problems", label: "Problems" },
  { tab: "run", label: "Run" },
  { tab: "history", label: "History" },
];

function ResizeHandle() {
  const { height, setHeight } = useRun(useShallow((s) => ({ height: s.panelHeight, setHeight: s.setPanelHeight })));
  const drag = useRef<{ y: number; height: number } | null>(null);
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    drag.current = { y: e.clientY, height };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (drag.current) setHeight(drag.current.height + drag.current.y - e.clientY);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 80 : 20;
    if (e.key === "ArrowUp") setHeight(height + step);
    else if (e.key === "ArrowDown") setHeight(height - step);
    else return;
    e.preventDefault();
  };
  return (
    <div
      className="run-resize"
      role="separator"
      aria-orientation="horizontal"
      aria-label="Resize the run panel"
      aria-valuemin={PANEL_MIN}
      aria-valuemax={PANEL_MAX}
      aria-valuenow={height}
      tabIndex={0}
      data-testid="run-panel-resize"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={() => (drag.current = null)}
      onKeyDown={onKeyDown}
    />
  );
}

function TabLabel({ tab, label }: { tab: Tab; label: string }) {
  const problems = useEditor((s) => (tab === "problems" ? s.diagnostics.filter((d) => d.severity === "error").length : 0));
  const running = useRun((s) => tab === "run" && s.phase === "running");
  return (
    <>
      {label}
      {problems > 0 && (
        <span className="run-count" aria-label={`${problems} errors`}>
          {problems}
        </span>
      )}
      {running && <span className="run-spinner" aria-label="running" />}
    </>
  );
}

export function RunPanel() {
  const { open, tab, height, showTab, toggle } = useRun(
    useShallow((s) => ({ open: s.panelOpen, tab: s.tab, height: s.panelHeight, showTab: s.showTab, toggle: s.togglePanel })),
  );
  return (
    <section className="run-panel" data-testid="run-panel" aria-label="Run panel" style={open ? { height } : undefined}>
      {open && <ResizeHandle />}
      <div className="run-tabs" role="tablist" aria-label="Run panel tabs">
        {TABS.map(({ tab: t, label }) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`run-tab-${t}`}
            data-testid={`run-tab-${t}`}
            aria-selected={open && tab === t}
            aria-controls="run-tabpanel"
            className="run-tab-button"
            onClick={() => (open && tab === t ? toggle() : showTab(t))}
          >
            <TabLabel tab={t} label={label} />
          </button>
        ))}
        <button
          type="button"
          className="btn btn-quiet btn-small run-collapse"
          aria-expanded={open}
          aria-label={open ? "Collapse the run panel" : "Expand the run panel"}
          data-testid="run-panel-toggle"
          onClick={toggle}
        >
          {open ? "▾" : "▴"}
        </button>
      </div>
      {open && (
        <div className="run-tabpanel" role="tabpanel" id="run-tabpanel" aria-labelledby={`run-tab-${tab}`}>
          {tab === "problems" && <ProblemsTab />}
          {tab === "run" && <RunTab />}
          {tab === "history" && <HistoryTab />}
        </div>
      )}
    </section>
  );
}
