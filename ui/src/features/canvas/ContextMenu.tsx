// The canvas's right-click menu: what can be done with a node, a wire or the empty canvas, at the
// pointer. Arrow keys move, Enter picks, Escape or a click elsewhere closes.
import { type KeyboardEvent, useEffect, useLayoutEffect, useRef } from "react";

export type MenuItem = { label: string; hint?: string; disabled?: boolean; danger?: boolean; run: () => void } | "separator";

export type MenuAt = { x: number; y: number };

type Props = {
  label: string;
  /** The pointer, relative to the canvas. */
  at: MenuAt;
  bounds: { width: number; height: number };
  items: MenuItem[];
  onClose: () => void;
};

const WIDTH = 220;

export function ContextMenu({ label, at, bounds, items, onClose }: Props) {
  const menu = useRef<HTMLDivElement>(null);
  const buttons = () => [...(menu.current?.querySelectorAll<HTMLButtonElement>("button:not(:disabled)") ?? [])];

  useLayoutEffect(() => buttons()[0]?.focus(), []);
  useEffect(() => {
    const away = (event: PointerEvent) => {
      if (!menu.current?.contains(event.target as Node)) onClose();
    };
    window.addEventListener("pointerdown", away, true);
    window.addEventListener("blur", onClose);
    return () => {
      window.removeEventListener("pointerdown", away, true);
      window.removeEventListener("blur", onClose);
    };
  }, [onClose]);

  const onKeyDown = (event: KeyboardEvent) => {
    const all = buttons();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === "Escape") onClose();
    else if (event.key === "ArrowDown") all[(at + 1) % all.length]?.focus();
    else if (event.key === "ArrowUp") all[(at - 1 + all.length) % all.length]?.focus();
    else if (event.key === "Home") all[0]?.focus();
    else if (event.key === "End") all.at(-1)?.focus();
    else return;
    event.preventDefault();
    event.stopPropagation();
  };

  // Kept inside the canvas, as the quick-add is.
  const height = items.reduce((h, item) => h + (item === "separator" ? 9 : 30), 10);
  const left = Math.max(8, Math.min(at.x, bounds.width - WIDTH - 8));
  const top = Math.max(8, Math.min(at.y, bounds.height - height - 8));

  return (
    <div ref={menu} className="context-menu" role="menu" aria-label={label} data-testid="context-menu" style={{ left, top, width: WIDTH }} onKeyDown={onKeyDown} onContextMenu={(e) => e.preventDefault()}>
      {items.map((item, i) =>
        item === "separator" ? (
          <div key={i} className="context-menu-separator" role="separator" />
        ) : (
          <button
            key={item.label}
            type="button"
            role="menuitem"
            aria-label={item.label}
            className={item.danger ? "context-menu-item context-menu-danger" : "context-menu-item"}
            disabled={item.disabled}
            onClick={() => {
              onClose();
              item.run();
            }}
          >
            <span>{item.label}</span>
            {item.hint && <kbd aria-hidden>{item.hint}</kbd>}
          </button>
        ),
      )}
    </div>
  );
}
