import { useEffect, useRef } from "react";

/** Keeps a native <dialog> modal in step with `open`; Escape and the backdrop are the browser's. */
export function useModalDialog(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  return ref;
}
