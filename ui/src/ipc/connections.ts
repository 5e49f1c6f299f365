// Typed calls to the Rust connection commands. Secrets only ever travel into these calls; no
// response carries one (the Rust side maps each stored secret to "******").
import { call } from "./client";
import type { ConnectionCheck } from "./generated/ConnectionCheck";
import type { ConnectionInput } from "./generated/ConnectionInput";
import type { ConnectionView } from "./generated/ConnectionView";
import type { KindSpec } from "./generated/KindSpec";
import type { SavedConnection } from "./generated/SavedConnection";

export const connectionsIpc = {
  kinds: () => call<KindSpec[]>("connection_kinds"),
  list: () => call<ConnectionView[]>("list_connections"),
  create: (input: ConnectionInput) => call<SavedConnection>("create_connection", { input }),
  update: (name: string, input: ConnectionInput) =>
    call<SavedConnection>("update_connection", { name, input }),
  remove: (name: string) => call<null>("delete_connection", { name }),
  /** A real call to the service; the key is read in Rust and never comes here. */
  test: (name: string, deployment: string | null) =>
    call<ConnectionCheck>("test_connection", { name, deployment }),
};
