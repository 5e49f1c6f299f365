// Typed calls to the Rust connection commands. Secrets only ever travel into these calls; no
// response carries one (the Rust side maps each stored secret to "******").
import { call } from "./client";
import type { ConnectionInput } from "./generated/ConnectionInput";

export const connectionsIpc = {
  kinds: () => call("connection_kinds"),
  list: () => call("list_connections"),
  create: (input: ConnectionInput) => call("create_connection", { input }),
  update: (name: string, input: ConnectionInput) => call("update_connection", { name, input }),
  remove: (name: string) => call("delete_connection", { name }),
  /** A real call to the service; the key is read in Rust and never comes here. */
  test: (name: string, deployment: string | null) => call("test_connection", { name, deployment }),
};
