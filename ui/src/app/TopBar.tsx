import { BatchButton } from "../features/batch/BatchButton";
import { useConnections } from "../features/connections/store";
import { useEditor } from "../features/editor/store";
import { EvalButton } from "../features/eval/EvalButton";
import { DirtyMarker, FileMenu } from "../features/files/FileMenu";
import { ProfileMenu } from "../features/profiles/ProfileMenu";
import { CassetteSwitch } from "../features/run/CassetteSwitch";
import { TestRunButton } from "../features/run/TestRunButton";

export function TopBar() {
  const title = useEditor((s) => s.document.title || "Untitled flow");
  const openConnections = useConnections((s) => s.openManager);
  return (
    <header className="topbar">
      <span className="brand" aria-label="Weft">
        <svg viewBox="0 0 32 32" width="20" height="20" aria-hidden>
          <rect width="32" height="32" rx="7" fill="var(--accent)" />
          <path d="M7 10l4 12 5-9 5 9 4-12" fill="none" stroke="#fff" strokeWidth="2.6" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        Weft
      </span>
      <span className="flow-title" data-testid="flow-title">
        {title}
        <DirtyMarker />
      </span>
      <FileMenu />
      <div className="topbar-actions">
        <ProfileMenu />
        <button type="button" className="btn" data-testid="open-connections" onClick={() => void openConnections()}>
          Connections
        </button>
        <BatchButton />
        <EvalButton />
        <CassetteSwitch />
        <TestRunButton />
      </div>
    </header>
  );
}
