// The flow-file, recovery, dialog and window commands for browser tests, behaving like the Rust
// contract: files live in an in-memory map (tests read it back as window.__WEFT_FILES__, and
// change it to play another program editing a file), a file that does not parse is refused with
// its line and column, a save over a file changed since it was read is refused as
// `changedOnDisk`, and dialogs answer what the test set.
import { mockWindows } from "@tauri-apps/api/mocks";

import type { FileVersion } from "./generated/FileVersion";
import type { FlowDocument } from "./generated/FlowDocument";
import type { IpcError } from "./generated/IpcError";
import type { OpenedFlow } from "./generated/OpenedFlow";
import type { Recovery } from "./generated/Recovery";
import type { Replace } from "./generated/Replace";

export type FlowsMockOptions = {
  /** Flow files by path; a string stands for a file that is not valid YAML (the parser's message). */
  files?: Record<string, FlowDocument | string>;
  /** What take_recovery finds at start-up. */
  recovery?: Recovery;
  /** The next answers of the native dialogs: a path (or null for Cancel), and Yes/No for ask. */
  dialog?: { open?: string | null; save?: string | null; ask?: boolean };
};

declare global {
  interface Window {
    __WEFT_FILES__?: Record<string, FlowDocument | string>;
    __WEFT_RECOVERY__?: Recovery | null;
    /** Every message dialog shown, for tests to read. */
    __WEFT_ASKED__?: string[];
  }
}

/** The chat example, as sample_flow returns it. */
const sample: FlowDocument = {
  schema: 1,
  title: "Chat",
  description: "Answers a question with one chat completion on Azure AI Foundry.",
  inputs: { question: { type: "string", default: "What does a flow designer do?" } },
  outputs: { answer: { value: "${chat.output}" } },
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 120 } },
    {
      id: "chat",
      type: "chat_completion",
      title: "Answer the question",
      position: { x: 320, y: 120 },
      properties: {
        connection: "azure-ai",
        deployment: "gpt-4o-mini",
        system_prompt: "You are a helpful assistant. Answer in at most three sentences.",
        user_prompt: "{{ question }}",
        variables: { question: "${inputs.question}" },
      },
    },
    { id: "outputs", type: "outputs", position: { x: 640, y: 120 } },
  ],
};

type Options = () => FlowsMockOptions;

function fail(kind: IpcError["kind"], message: string): never {
  throw { kind, message, problems: [] } satisfies IpcError;
}

/** Stands for the hash of the file's bytes: any change to the stored file changes it. */
function versionOf(file: FlowDocument | string | undefined): FileVersion | null {
  return file === undefined ? null : JSON.stringify(file);
}

function flowPath(path: string): string {
  return path.endsWith(".weft.yaml") ? path : fail("invalidInput", `${path} is not a flow file`);
}

const commands = new Set([
  "open_flow",
  "save_flow",
  "sample_flow",
  "save_recovery",
  "take_recovery",
  "clear_recovery",
  "plugin:dialog|open",
  "plugin:dialog|save",
  "plugin:dialog|message",
  "plugin:window|set_title",
  "plugin:event|listen",
  "plugin:event|unlisten",
]);

export function isFlowCommand(command: string): boolean {
  return commands.has(command);
}

let started = false;
let listeners = 0;

export function flowCommand(command: string, args: Record<string, unknown>, options: Options): unknown {
  if (!started) {
    started = true;
    window.__WEFT_FILES__ = structuredClone(options().files ?? {});
    window.__WEFT_RECOVERY__ = options().recovery ?? null;
    window.__WEFT_ASKED__ = [];
  }
  const files = window.__WEFT_FILES__!;
  switch (command) {
    case "open_flow": {
      const path = flowPath(String(args.path));
      const file = files[path] ?? fail("notFound", `${path} does not exist`);
      if (typeof file === "string") fail("invalidInput", file);
      return { path, document: structuredClone(file), version: versionOf(file) } satisfies OpenedFlow;
    }
    case "save_flow": {
      const path = flowPath(String(args.path));
      const document = args.document as FlowDocument;
      const replace = args.replace as Replace;
      if (!Array.isArray(document?.nodes)) fail("invalidInput", "not a flow document");
      const now = versionOf(files[path]);
      if (replace.mode === "ifUnchanged" && now !== null && now !== replace.version)
        fail("changedOnDisk", `${path} changed on disk since it was opened`);
      files[path] = structuredClone(document);
      return versionOf(files[path]) satisfies FileVersion | null;
    }
    case "sample_flow":
      return { path: null, document: structuredClone(sample), version: null } satisfies OpenedFlow;
    case "save_recovery":
      window.__WEFT_RECOVERY__ = {
        path: (args.path as string | null) ?? null,
        version: (args.version as FileVersion | null) ?? null,
        document: args.document as FlowDocument,
        saved_at_ms: Date.now(),
      };
      return null;
    case "take_recovery": {
      const found = window.__WEFT_RECOVERY__ ?? null;
      return found;
    }
    case "clear_recovery":
      window.__WEFT_RECOVERY__ = null;
      return null;
    case "plugin:dialog|open":
      return options().dialog?.open ?? null;
    case "plugin:dialog|save":
      return options().dialog?.save ?? null;
    case "plugin:dialog|message": {
      window.__WEFT_ASKED__!.push(String(args.message));
      const buttons = args.buttons as { OkCancelCustom?: [string, string] } | string | undefined;
      const [ok, cancel] = typeof buttons === "object" && buttons.OkCancelCustom ? buttons.OkCancelCustom : ["Yes", "No"];
      return options().dialog?.ask ? ok : cancel;
    }
    case "plugin:event|listen":
      return ++listeners;
    default:
      return null;
  }
}

// The window API reads the current window's label from Tauri's metadata.
mockWindows("main");
