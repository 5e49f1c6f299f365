import { useShortcuts } from "../editor/useShortcuts";
import { useFileLifecycle } from "./useFileLifecycle";

/** Session-wide effects, in a component of their own so their updates re-render nothing else. */
export function EditorSession() {
  useFileLifecycle();
  useShortcuts();
  return null;
}
