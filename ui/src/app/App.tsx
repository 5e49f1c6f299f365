import { ReactFlowProvider } from "@xyflow/react";

import { Canvas } from "../features/canvas/Canvas";
import { ConnectionsManager } from "../features/connections/ConnectionsManager";
import { DiagnosticsDialog } from "../features/diagnostics/DiagnosticsDialog";
import { Palette } from "../features/palette/Palette";
import { PropertyPanel } from "../features/properties/PropertyPanel";
import { StatusBar } from "./StatusBar";
import { TopBar } from "./TopBar";

export function App() {
  return (
    <ReactFlowProvider>
      <div className="app">
        <TopBar />
        <Palette />
        <Canvas />
        <PropertyPanel />
        <StatusBar />
      </div>
      <DiagnosticsDialog />
      <ConnectionsManager />
    </ReactFlowProvider>
  );
}
