// Generated from the command table in src-tauri/src/commands.rs by `cargo test -p weft-desktop`; do not edit.
import type { Channel } from "@tauri-apps/api/core";

import type { BatchEngine } from "./BatchEngine";
import type { BatchEvent } from "./BatchEvent";
import type { BatchRowView } from "./BatchRowView";
import type { BatchSummary } from "./BatchSummary";
import type { BatchView } from "./BatchView";
import type { CassetteSwitch } from "./CassetteSwitch";
import type { Concurrency } from "./Concurrency";
import type { ConnectionCheck } from "./ConnectionCheck";
import type { ConnectionInput } from "./ConnectionInput";
import type { ConnectionView } from "./ConnectionView";
import type { DataPreview } from "./DataPreview";
import type { Diagnostic } from "./Diagnostic";
import type { Diagnostics } from "./Diagnostics";
import type { EffectiveConnectionView } from "./EffectiveConnectionView";
import type { EvalEvent } from "./EvalEvent";
import type { EvalFileView } from "./EvalFileView";
import type { EvalReport } from "./EvalReport";
import type { EvalRowView } from "./EvalRowView";
import type { EvalView } from "./EvalView";
import type { ExportFormat } from "./ExportFormat";
import type { FileVersion } from "./FileVersion";
import type { FlowDocument } from "./FlowDocument";
import type { JsonValue } from "./serde_json/JsonValue";
import type { KindSpec } from "./KindSpec";
import type { OpenedFlow } from "./OpenedFlow";
import type { OverrideInput } from "./OverrideInput";
import type { ProfileView } from "./ProfileView";
import type { Recovery } from "./Recovery";
import type { Replace } from "./Replace";
import type { RowFilter } from "./RowFilter";
import type { RunEvent } from "./RunEvent";
import type { RunPlan } from "./RunPlan";
import type { RunSummary } from "./RunSummary";
import type { RunView } from "./RunView";
import type { SavedConnection } from "./SavedConnection";
import type { SavedOverride } from "./SavedOverride";

/** Every command the desktop shell registers: the arguments `invoke` sends (camelCase, as Tauri names them)
 * and what the command resolves to (it rejects with an `IpcError`). */
export type Commands = {
  /** The app's version, data folder, database, keychain and Entra ID sign-ins, for the status bar. */
  diagnostics: { args: Record<never, never>; result: Diagnostics };
  /** The connection types and their fields, for the connection form. */
  connection_kinds: { args: Record<never, never>; result: Array<KindSpec> };
  /** Every saved connection, secrets as `******`. */
  list_connections: { args: Record<never, never>; result: Array<ConnectionView> };
  /** Rejects with kind `invalidInput` (with `problems` per field) or `conflict` (the name is taken). */
  create_connection: { args: { input: ConnectionInput }; result: SavedConnection };
  /** Replaces the connection called `name`; a secret given as `******` or `""` keeps the stored one. */
  update_connection: { args: { name: string; input: ConnectionInput }; result: SavedConnection };
  /** Deletes the connection and its keychain entries. */
  delete_connection: { args: { name: string }; result: null };
  /** A live call to the connection's service; the key is read here and never leaves Rust. */
  test_connection: { args: { name: string; deployment: string | null }; result: ConnectionCheck };
  /** Reads and parses a flow file, with the version a later save compares against. */
  open_flow: { args: { path: string }; result: OpenedFlow };
  /** Resolves to the version now on disk; refused with `changedOnDisk` when `replace` names a
   * version the file no longer has. */
  save_flow: { args: { path: string; document: FlowDocument; replace: Replace }; result: FileVersion };
  /** The example flow a new window starts with (not saved anywhere). */
  sample_flow: { args: Record<never, never>; result: OpenedFlow };
  /** The flow's problems, for the editor to show on the nodes and properties. */
  validate_flow: { args: { document: FlowDocument }; result: Array<Diagnostic> };
  /** The flow's inputs whose values are secrets: marked so, or feeding a dynamic connection's key
   * (through variables too). The run form masks them and never remembers them. */
  secret_inputs: { args: { document: FlowDocument }; result: Array<string> };
  /** Keeps the unsaved editor state, so a crash or a closed window loses nothing. */
  save_recovery: { args: { path: string | null; version: FileVersion | null; document: FlowDocument }; result: null };
  /** What the last session left unsaved, if anything (taken: a second call finds nothing). */
  take_recovery: { args: Record<never, never>; result: Recovery | null };
  clear_recovery: { args: Record<never, never>; result: null };
  /** Runs the flow; its events stream over `events` as they happen, the summary returns at the
   * end, whatever the run's status. Rejects only when the run cannot start. `cassette`: the
   * model calls go live, or are recorded to / replayed from `<flow stem>.cassette.jsonl`
   * beside `path` (an unsaved flow runs live only). */
  run_flow: { args: { document: FlowDocument; path: string | null; inputs: { [key in string]: JsonValue }; plan: RunPlan; runId: string; cassette: CassetteSwitch; events: Channel<RunEvent> }; result: RunSummary };
  /** Stops the run with this id; `false` when it is not (or no longer) running. */
  cancel_run: { args: { runId: string }; result: boolean };
  /** A data file's columns and first rows (a bad one with why), and the mapping proposed for
   * the open flow's inputs. */
  batch_preview: { args: { document: FlowDocument; path: string }; result: DataPreview };
  /** Runs the flow file at `flow_path` over every row of the data file; its events stream over
   * `events`, the summary returns at the end, whatever the batch's status. Rejects only when
   * the batch cannot start (the flow, the data file or the mapping), before any call. The
   * caller picks `batch_id`, so `batch_cancel` works from the moment it is asked for.
   * `engine` `azure-batch`: the model calls go to the Azure OpenAI Batch API (the flow must
   * form one model stage; refused before anything is sent otherwise). */
  batch_start: { args: { batchId: string; name: string | null; flowPath: string; dataPath: string; mapping: { [key in string]: string }; concurrency: Concurrency; engine: BatchEngine; events: Channel<BatchEvent> }; result: BatchSummary };
  /** Runs again the rows of a stored batch that did not succeed, with the flow as it ran then;
   * `concurrency` `null`: as it was started. */
  batch_resume: { args: { batchId: string; concurrency: Concurrency | null; events: Channel<BatchEvent> }; result: BatchSummary };
  /** Stops the batch with this id (rows in flight are recorded cancelled); `false` when it is
   * not (or no longer) running. */
  batch_cancel: { args: { batchId: string }; result: boolean };
  /** The latest batches first, with their row counts. */
  batch_list: { args: { limit: number }; result: Array<BatchView> };
  /** One batch by its id (or a unique prefix of it). */
  batch_get: { args: { id: string }; result: BatchView };
  /** A page of a batch's rows in row order, those of one status or all, redacted as stored. */
  batch_rows: { args: { id: string; filter: RowFilter; offset: number; limit: number }; result: Array<BatchRowView> };
  /** One row of a batch with what each of its nodes did. */
  batch_row: { args: { id: string; row: number }; result: BatchRowView };
  /** Writes every row of the batch to `path` (chosen in the save dialog) as JSONL or CSV; a
   * failed export leaves no file behind. */
  batch_export: { args: { id: string; format: ExportFormat; path: string }; result: null };
  /** Reads an eval file (`*.eval.yaml`), with the flow and data it names resolved. */
  eval_open: { args: { path: string }; result: EvalFileView };
  /** Writes the eval file; rejects with what is wrong in it (nothing is written then). */
  eval_save: { args: { path: string; file: EvalFileView }; result: null };
  /** Runs the eval file at `path`: each variant (`variants` empty: all) over the data, then
   * the assertions on every row; its events stream over `events`, the report returns at the
   * end. `baseline`: a stored eval run to compare with. `cassette`: the rows' and the judges'
   * model calls go live, or through `<eval stem>.eval.cassette.jsonl` beside the file. Cancel
   * with `cancel_run` and the eval's id. Rejects only when the eval cannot start. */
  eval_run: { args: { evalId: string; path: string; variants: Array<string>; baseline: string | null; concurrency: Concurrency; cassette: CassetteSwitch; events: Channel<EvalEvent> }; result: EvalReport };
  /** The latest eval runs first. */
  eval_list: { args: { limit: number }; result: Array<EvalView> };
  /** One eval run's report by its id (or a unique prefix of it). */
  eval_report: { args: { id: string }; result: EvalReport };
  /** A page of an eval run's data rows in row order, each with a verdict per variant. */
  eval_rows: { args: { id: string; offset: number; limit: number }; result: Array<EvalRowView> };
  /** Appends the stored run's inputs to the data file at `path` (JSONL, or CSV in its header's
   * order; made when missing), with its output `expected_from` as `expected` when given. */
  dataset_add_run: { args: { runId: string; path: string; expectedFrom: string | null }; result: null };
  /** The latest runs first, secrets redacted. */
  list_runs: { args: { limit: number }; result: Array<RunView> };
  /** One run by its id (or a unique prefix of it). */
  get_run: { args: { id: string }; result: RunView };
  /** Every profile, sorted, with the active one marked. */
  list_profiles: { args: Record<never, never>; result: Array<ProfileView> };
  /** Rejects with kind `invalidInput` (a name the store refuses) or `conflict` (taken, ignoring
   * case). */
  create_profile: { args: { name: string }; result: ProfileView };
  /** Deletes the profile and what it changes in connections, keychain entries included. */
  delete_profile: { args: { name: string }; result: null };
  /** The profile runs and connection tests use; `null`: none. */
  active_profile: { args: Record<never, never>; result: string | null };
  /** Switches the profile later runs use (`null`: none); a run in progress keeps its own.
   * Returns the profile's name as created. */
  set_active_profile: { args: { name: string | null }; result: string | null };
  /** The connection called `name` as `profile` sees it (`null`: as saved), secrets as `******`,
   * with the fields that come from the profile marked. */
  connection_in_profile: { args: { name: string; profile: string | null }; result: EffectiveConnectionView };
  /** Saves what `profile` changes in the connection; the input replaces its earlier override. */
  set_connection_override: { args: { name: string; profile: string; input: OverrideInput }; result: SavedOverride };
  /** Removes what `profile` changes in the connection, keychain entries included; `false` when
   * it changed nothing. */
  clear_connection_override: { args: { name: string; profile: string }; result: boolean };
};

export type CommandName = keyof Commands;

/** The same names at run time, in the table's order. */
export const commandNames: readonly CommandName[] = [
  "diagnostics",
  "connection_kinds",
  "list_connections",
  "create_connection",
  "update_connection",
  "delete_connection",
  "test_connection",
  "open_flow",
  "save_flow",
  "sample_flow",
  "validate_flow",
  "secret_inputs",
  "save_recovery",
  "take_recovery",
  "clear_recovery",
  "run_flow",
  "cancel_run",
  "batch_preview",
  "batch_start",
  "batch_resume",
  "batch_cancel",
  "batch_list",
  "batch_get",
  "batch_rows",
  "batch_row",
  "batch_export",
  "eval_open",
  "eval_save",
  "eval_run",
  "eval_list",
  "eval_report",
  "eval_rows",
  "dataset_add_run",
  "list_runs",
  "get_run",
  "list_profiles",
  "create_profile",
  "delete_profile",
  "active_profile",
  "set_active_profile",
  "connection_in_profile",
  "set_connection_override",
  "clear_connection_override",
];
