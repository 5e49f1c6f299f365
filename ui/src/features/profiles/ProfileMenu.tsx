// The top bar's environment profile: which one the next Test run uses, always in sight, and a
// menu to switch, create or delete one. Arrow keys move in the menu, Escape or a click elsewhere
// closes it and gives the focus back to its button.
import { type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";

import { type DialogShown, ProfileDialog } from "./ProfileDialog";
import { useProfiles } from "./store";
import "./profiles.css";

/** How long a notice stays in the top bar. */
const NOTICE_MS = 4000;

export function ProfileMenu() {
  const { profiles, active, error, notice, load, switchTo, clearNotice } = useProfiles(
    useShallow((s) => ({
      profiles: s.profiles,
      active: s.active,
      error: s.error,
      notice: s.notice,
      load: s.load,
      switchTo: s.switchTo,
      clearNotice: s.clearNotice,
    })),
  );
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<DialogShown>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(clearNotice, NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice, clearNotice]);

  const items = () => [...(menu.current?.querySelectorAll<HTMLButtonElement>("[role^=menuitem]:not(:disabled)") ?? [])];
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  // Opening focuses the checked choice, as a native select does.
  useLayoutEffect(() => {
    if (!open) return;
    const all = items();
    (all.find((item) => item.getAttribute("aria-checked") === "true") ?? all[0])?.focus();
  }, [open]);
  useEffect(() => {
    if (!open) return;
    // Another window or `weft profile create` may have changed them since.
    void load();
    const away = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    window.addEventListener("pointerdown", away, true);
    return () => window.removeEventListener("pointerdown", away, true);
  }, [open, load]);

  const onMenuKey = (event: KeyboardEvent) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === "Escape") close(true);
    else if (event.key === "Tab") close(false);
    else if (event.key === "ArrowDown") all[(at + 1) % all.length]?.focus();
    else if (event.key === "ArrowUp") all[(at - 1 + all.length) % all.length]?.focus();
    else if (event.key === "Home") all[0]?.focus();
    else if (event.key === "End") all.at(-1)?.focus();
    else return;
    if (event.key !== "Tab") event.preventDefault();
    event.stopPropagation();
  };
  const onButtonKey = (event: KeyboardEvent) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    setOpen(true);
  };

  const choose = (name: string | null) => {
    close(true);
    void switchTo(name);
  };
  const show = (shown: DialogShown) => {
    close(false);
    setDialog(shown);
  };

  const choice = (name: string | null, label: string) => (
    <button
      key={name ?? ""}
      type="button"
      role="menuitemradio"
      aria-checked={active === name}
      className="context-menu-item profile-choice"
      data-testid={name === null ? "profile-none" : `profile-choice-${name}`}
      onClick={() => choose(name)}
    >
      <span className="profile-check" aria-hidden>
        {active === name ? "✓" : ""}
      </span>
      <span className="profile-choice-label">{label}</span>
    </button>
  );

  return (
    <div className="profile-switcher">
      {error && (
        <span className="profile-note profile-note-error" role="alert" data-testid="profile-error">
          {error.message}
        </span>
      )}
      {/* Always present, so that screen readers announce each new notice. */}
      <span className="profile-note" role="status" data-testid="profile-notice">
        {error ? "" : notice}
      </span>
      <div className="profile-anchor">
        <button
          ref={button}
          type="button"
          className="btn profile-button"
          data-testid="profile-button"
          aria-haspopup="menu"
          aria-expanded={open}
          aria-controls={open ? "profile-menu" : undefined}
          title="The environment profile Test runs and connection tests use"
          onClick={() => setOpen(!open)}
          onKeyDown={onButtonKey}
        >
          {active ? (
            <>
              <span className="muted">Profile:</span> <span data-testid="profile-active">{active}</span>
            </>
          ) : (
            <span data-testid="profile-active">No profile</span>
          )}
          <span aria-hidden>▾</span>
        </button>
        {open && (
          <div ref={menu} id="profile-menu" className="context-menu profile-menu" role="menu" aria-label="Environment profile" data-testid="profile-menu" onKeyDown={onMenuKey}>
            {choice(null, "No profile")}
            {profiles.map((profile) => choice(profile.name, profile.name))}
            <div className="context-menu-separator" role="separator" />
            <button type="button" role="menuitem" className="context-menu-item" data-testid="profile-new" onClick={() => show({ mode: "create" })}>
              New profile…
            </button>
            <button
              type="button"
              role="menuitem"
              className="context-menu-item context-menu-danger"
              data-testid="profile-delete"
              disabled={profiles.length === 0}
              onClick={() => show({ mode: "delete", name: active ?? profiles[0]?.name ?? "" })}
            >
              Delete profile…
            </button>
          </div>
        )}
      </div>
      <ProfileDialog shown={dialog} onClose={() => setDialog(null)} />
    </div>
  );
}
