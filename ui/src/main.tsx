import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import "@xyflow/react/dist/style.css";
import "./app/app.css";

async function start() {
  // Browser tests build with VITE_MOCK_IPC=1 to stand in for Rust; production bundles drop this.
  if (import.meta.env.VITE_MOCK_IPC === "1") await Promise.all([import("./ipc/mock"), import("./ipc/mock-probe")]);
  const { App } = await import("./app/App");
  const root = document.getElementById("root");
  if (!root) throw new Error("index.html has no #root");
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

void start();
