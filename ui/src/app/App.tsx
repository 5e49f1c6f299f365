import { ReactFlowProvider } from "@xyflow/react";

import { BatchPanel } from "../features/batch/BatchPanel";
import { Canvas } from "../features/canvas/Canvas";
import { ConnectionsManager } from "../features/connections/ConnectionsManager";
import { DiagnosticsDialog } from "../features/diagnostics/DiagnosticsDialog";
import { EvalPanel } from "../features/eval/EvalPanel";
import { EditorSession } from "../features/files/EditorSession";
import { PanelResizer } from "../features/files/PanelResizer";
import { ShortcutHelp } from "../features/help/ShortcutHelp";
import { Palette } from "../features/palette/Palette";
import { PropertyPanel } from "../features/properties/PropertyPanel";
import { InputsDialog } from "../features/run/InputsDialog";
import { RunPanel } from "../features/run/RunPanel";
import { StatusBar } from "./StatusBar";
import { TopBar } from "./TopBar";

export function App() {
  return (
    <ReactFlowProvider>
      <EditorSession />
      <div className="app">
        <TopBar />
        <Palette />
        <Canvas />
        <PropertyPanel />
        <PanelResizer side="palette" />
        <PanelResizer side="props" />
        <RunPanel />
        <StatusBar />
      </div>
      <DiagnosticsDialog />
      <ConnectionsManager />
      <ShortcutHelp />
      <InputsDialog />
      <BatchPanel />
      <EvalPanel />
    </ReactFlowProvider>
  );
}
