import { type PointerEvent, useEffect } from "react";
import "./files.css";

const LIMITS = { palette: [180, 420], props: [240, 560] } as const;
const variable = (side: Side) => `--${side === "palette" ? "palette" : "props"}-width`;
type Side = keyof typeof LIMITS;

function apply(side: Side, width: number) {
  const [min, max] = LIMITS[side];
  const clamped = Math.round(Math.min(max, Math.max(min, width)));
  document.querySelector<HTMLElement>(".app")?.style.setProperty(variable(side), `${clamped}px`);
  return clamped;
}

/** A drag handle on a side panel's inner edge; the width is kept for the next start. */
export function PanelResizer({ side }: { side: Side }) {
  useEffect(() => {
    const saved = Number(localStorage.getItem(`weft.${side}Width`));
    if (saved) apply(side, saved);
  }, [side]);
  const current = () => document.querySelector(side === "palette" ? ".palette" : ".properties")?.getBoundingClientRect().width ?? 0;
  const onPointerDown = (event: PointerEvent) => {
    const startX = event.clientX;
    const start = current();
    const target = event.currentTarget as HTMLElement;
    target.setPointerCapture(event.pointerId);
    const move = (e: globalThis.PointerEvent) => {
      const width = apply(side, start + (side === "palette" ? e.clientX - startX : startX - e.clientX));
      localStorage.setItem(`weft.${side}Width`, String(width));
    };
    const up = () => {
      target.removeEventListener("pointermove", move);
      target.removeEventListener("pointerup", up);
    };
    target.addEventListener("pointermove", move);
    target.addEventListener("pointerup", up);
  };
  return (
    <button
      type="button"
      className={`panel-resizer panel-resizer-${side}`}
      aria-label={side === "palette" ? "Resize the left-hand panel" : "Resize the right-hand panel"}
      title="Drag to resize; arrow keys work too"
      onPointerDown={onPointerDown}
      onKeyDown={(event) => {
        const step = event.key === "ArrowLeft" ? -16 : event.key === "ArrowRight" ? 16 : 0;
        if (!step) return;
        const width = apply(side, current() + (side === "palette" ? step : -step));
        localStorage.setItem(`weft.${side}Width`, String(width));
      }}
    />
  );
}
