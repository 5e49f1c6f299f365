import { beforeEach, describe, expect, it, vi } from "vitest";

import kindsJson from "../../ipc/generated/connectionKinds.json";
import type { ConnectionInput } from "../../ipc/generated/ConnectionInput";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import { emptyDraft } from "./form";
import { useConnections } from "./store";

// A stand-in for the Rust side: what was created is listed.
const kinds = kindsJson as KindSpec[];
let listed: ConnectionView[] = [];
const created = (input: ConnectionInput): ConnectionView => ({
  id: input.name,
  name: input.name,
  type: input.type,
  config: input.config,
  secrets: {},
  createdAt: "2026-12-02T00:00:00Z",
  updatedAt: "2026-12-02T00:00:00Z",
});
vi.mock("../../ipc/connections", () => ({
  connectionsIpc: {
    kinds: () => Promise.resolve(kinds),
    list: () => Promise.resolve([...listed]),
    create: (input: ConnectionInput) => {
      const connection = created(input);
      listed = [...listed, connection];
      return Promise.resolve({ connection, warnings: [] });
    },
    update: (_name: string, input: ConnectionInput) => Promise.resolve({ connection: created(input), warnings: [] }),
  },
}));

const spec = (kind: KindSpec["kind"]) => kinds.find((k) => k.kind === kind)!;
const draft = (kind: KindSpec["kind"], name: string) => ({ ...emptyDraft(spec(kind)), name });

describe("connections store, opened by a node's picker", () => {
  beforeEach(() => {
    listed = [];
    useConnections.setState({ open: false, kinds: [], connections: [], selection: null, newKind: "azure_ai", target: null, lastSaved: null });
  });

  it("opens on a new connection of the node's first type, and the one created becomes the node's", async () => {
    const pick = vi.fn();
    await useConnections.getState().openManager({ mode: "new", kind: "azure_content_safety" }, { label: "the Connection of node safety", accepts: ["azure_content_safety"], pick });
    expect(useConnections.getState()).toMatchObject({ open: true, newKind: "azure_content_safety", selection: { mode: "new", kind: "azure_content_safety" } });
    await useConnections.getState().save(spec("azure_content_safety"), draft("azure_content_safety", "safety"));
    expect(pick).toHaveBeenCalledExactlyOnceWith("safety");
    expect(useConnections.getState()).toMatchObject({ target: null, lastSaved: { name: "safety", pickedFor: "the Connection of node safety" } });
    // Picked once: the next connection created is not.
    await useConnections.getState().save(spec("azure_content_safety"), draft("azure_content_safety", "safety-2"));
    expect(pick).toHaveBeenCalledTimes(1);
    expect(useConnections.getState().lastSaved).toEqual({ name: "safety-2", warnings: [] });
  });

  it("does not give the node a connection of a type it does not take, nor one edited, nor after closing", async () => {
    const pick = vi.fn();
    const target = { label: "the Connection of node chat", accepts: ["azure_ai" as const, "open_ai" as const], pick };
    await useConnections.getState().openManager({ mode: "new", kind: "azure_ai" }, target);
    await useConnections.getState().save(spec("serp"), draft("serp", "web"));
    await useConnections.getState().save(spec("azure_ai"), { ...draft("azure_ai", "web"), original: "web" });
    expect(pick).not.toHaveBeenCalled();
    expect(useConnections.getState().target).toBe(target);
    useConnections.getState().close();
    expect(useConnections.getState().target).toBeNull();
    await useConnections.getState().save(spec("open_ai"), draft("open_ai", "oai"));
    expect(pick).not.toHaveBeenCalled();
  });

  it("loads the list and the types once for a picker", async () => {
    listed = [created({ name: "azure-ai", type: "azure_ai", config: {}, secrets: {} })];
    await useConnections.getState().load();
    expect(useConnections.getState().connections.map((c) => c.name)).toEqual(["azure-ai"]);
    expect(useConnections.getState().kinds.length).toBe(kinds.length);
    listed = [];
    await useConnections.getState().load();
    expect(useConnections.getState().connections.map((c) => c.name)).toEqual(["azure-ai"]);
  });
});
