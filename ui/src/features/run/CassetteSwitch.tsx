// Beside Test run: whether a run's model calls go live, are recorded, or are replayed from the
// cassette beside the flow file (`<flow stem>.cassette.jsonl`). An unsaved flow has no such place.
import { useShallow } from "zustand/react/shallow";

import type { CassetteSwitch as Mode } from "../../ipc/generated/CassetteSwitch";
import { useEditor } from "../editor/store";
import { useRun } from "./store";

export const CASSETTE_MODES: { mode: Mode; label: string; help: string }[] = [
  { mode: "off", label: "Live", help: "Every model call goes to the service" },
  { mode: "record", label: "Record", help: "Every call goes to the service and the cassette is written anew" },
  { mode: "replay", label: "Replay", help: "Calls are answered from the cassette; one it lacks fails, naming the closest recorded call" },
  { mode: "fill", label: "Record missing", help: "Recorded calls are replayed, the others go to the service and are added" },
];

/** `chat.weft.yaml` → `chat.cassette.jsonl`, beside it. */
export function cassettePath(flowPath: string): string {
  return `${flowPath.replace(/\.weft\.ya?ml$/, "").replace(/\.ya?ml$/, "")}.cassette.jsonl`;
}

export function CassetteSwitch() {
  const path = useEditor((s) => s.path);
  const { mode, setMode, busy } = useRun(useShallow((s) => ({ mode: s.cassette, setMode: s.setCassette, busy: s.phase !== "idle" })));
  const shown = path ? mode : "off";
  const help = CASSETTE_MODES.find((m) => m.mode === shown)?.help ?? "";
  return (
    <select
      className="cassette-switch"
      aria-label="Model calls of test runs"
      data-testid="cassette-switch"
      data-mode={shown}
      disabled={!path || busy}
      title={path ? `${help} (${cassettePath(path).split(/[\\/]/).pop()})` : "Save the flow first: the recording is kept beside the flow file"}
      value={shown}
      onChange={(e) => setMode(e.target.value as Mode)}
    >
      {CASSETTE_MODES.map((m) => (
        <option key={m.mode} value={m.mode}>
          {m.mode === "off" ? "Live" : `⏺ ${m.label}`}
        </option>
      ))}
    </select>
  );
}
