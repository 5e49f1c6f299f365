// What the browser-test mock's modules share: the options a test sets, the typed shape of a
// command handler, and how a handler rejects.
import type { Args, CommandName, Result } from "./client";
import type { IpcError } from "./generated/IpcError";
import type { BatchMockOptions } from "./mock-batch";
import type { EvalMockOptions } from "./mock-eval";
import type { FlowsMockOptions } from "./mock-flows";
import type { RunMockOptions } from "./mock-run";

/** Set by a test (playwright's addInitScript) before the page loads. */
export type MockOptions = {
  /** Every keychain call fails, as with a locked Secret Service. */
  keychainFails?: boolean;
  /** The diagnostics command itself rejects, as when the database is from a newer Weft. */
  diagnosticsFails?: boolean;
  /** The Azure CLI is not signed in, so Microsoft Entra ID connections get no token. */
  entraSignedOut?: boolean;
  /** How test runs behave (a failing node, a throttled node, slow tokens). */
  run?: RunMockOptions;
  /** Batch data files and how batches run. */
  batch?: BatchMockOptions;
  /** Flow files, recovery and native dialog answers. */
  flows?: FlowsMockOptions;
  /** Eval files (their data files are the batch's). */
  evals?: EvalMockOptions;
};

declare global {
  interface Window {
    __WEFT_MOCK__?: MockOptions;
  }
}

export function mockOptions(): MockOptions {
  return window.__WEFT_MOCK__ ?? {};
}

/** Answers one command as Rust would: typed by the generated command map. */
export type Handler<K extends CommandName> = (args: Args<K>) => Result<K> | Promise<Result<K>>;
/** One handler per command: a command added in Rust is a type error until the mock handles it. */
export type Handlers = { [K in CommandName]: Handler<K> };

/** Rejects the command the way Rust's `IpcError` does. */
export function fail(kind: IpcError["kind"], message: string, problems: IpcError["problems"] = []): never {
  throw { kind, message, problems } satisfies IpcError;
}
