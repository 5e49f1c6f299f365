// Browser tests only (loaded with the IPC mock): lets a test ask the page what the canvas estimated
// for a node before the DOM measured it, to compare with what React Flow measured.
import { flowPorts } from "../features/editor/graph";
import { cardGeometry, cardLayout } from "../features/editor/nodes/card";
import { useEditor } from "../features/editor/store";

declare global {
  interface Window {
    __WEFT_PROBE__?: { cardGeometry: (id: string) => ReturnType<typeof cardGeometry> | null };
  }
}

window.__WEFT_PROBE__ = {
  cardGeometry: (id) => {
    const doc = useEditor.getState().document;
    const node = doc.nodes.find((n) => n.id === id);
    if (!node) return null;
    return cardGeometry(cardLayout(node, flowPorts(node, doc)));
  },
};
