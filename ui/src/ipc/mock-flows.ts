// The flow-file, recovery, dialog and window commands for browser tests, behaving like the Rust
// contract: files live in an in-memory map (tests read it back as window.__WEFT_FILES__, and
// change it to play another program editing a file), a file that does not parse is refused with
// its line and column, a save over a file changed since it was read is refused as
// `changedOnDisk`, and dialogs answer what the test set.
import type { FileVersion } from "./generated/FileVersion";
import type { FlowDocument } from "./generated/FlowDocument";
import type { Recovery } from "./generated/Recovery";
import { type Handlers, fail, mockOptions } from "./mock-options";

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

function options(): FlowsMockOptions {
  return mockOptions().flows ?? {};
}

/** Stands for the hash of the file's bytes: any change to the stored file changes it. */
function versionOf(file: FlowDocument | string | undefined): FileVersion | null {
  return file === undefined ? null : JSON.stringify(file);
}

function flowPath(path: string): string {
  return path.endsWith(".weft.yaml") ? path : fail("invalidInput", `${path} is not a flow file`);
}

let started = false;
let listeners = 0;

/** The files, recovery and dialog log, set up from the test's options at the first call. */
function files(): Record<string, FlowDocument | string> {
  if (!started) {
    started = true;
    window.__WEFT_FILES__ = structuredClone(options().files ?? {});
    window.__WEFT_RECOVERY__ = options().recovery ?? null;
    window.__WEFT_ASKED__ = [];
  }
  return window.__WEFT_FILES__!;
}

export const flowHandlers = {
  open_flow: ({ path }) => {
    const file = files()[flowPath(path)] ?? fail("notFound", `${path} does not exist`);
    if (typeof file === "string") fail("invalidInput", file);
    return { path, document: structuredClone(file), version: versionOf(file) };
  },
  save_flow: ({ path, document, replace }) => {
    const all = files();
    flowPath(path);
    if (!Array.isArray(document?.nodes)) fail("invalidInput", "not a flow document");
    const now = versionOf(all[path]);
    if (replace.mode === "ifUnchanged" && now !== null && now !== replace.version)
      fail("changedOnDisk", `${path} changed on disk since it was opened`);
    all[path] = structuredClone(document);
    return versionOf(all[path]) ?? fail("internal", `${path} was not kept`);
  },
  sample_flow: () => ({ path: null, document: structuredClone(sample), version: null }),
  save_recovery: ({ path, version, document }) => {
    files();
    window.__WEFT_RECOVERY__ = { path, version, document, saved_at_ms: Date.now() };
    return null;
  },
  take_recovery: () => {
    files();
    return window.__WEFT_RECOVERY__ ?? null;
  },
  clear_recovery: () => {
    files();
    window.__WEFT_RECOVERY__ = null;
    return null;
  },
} satisfies Partial<Handlers>;

/** The plugin commands @tauri-apps/api and the dialog plugin send (they are not Weft's own). */
export const pluginHandlers: Record<string, (args: Record<string, unknown>) => unknown> = {
  "plugin:dialog|open": () => options().dialog?.open ?? null,
  "plugin:dialog|save": () => options().dialog?.save ?? null,
  "plugin:dialog|message": (args) => {
    files();
    window.__WEFT_ASKED__!.push(String(args.message));
    const buttons = args.buttons as { OkCancelCustom?: [string, string] } | string | undefined;
    const [ok, cancel] = typeof buttons === "object" && buttons.OkCancelCustom ? buttons.OkCancelCustom : ["Yes", "No"];
    return options().dialog?.ask ? ok : cancel;
  },
  "plugin:window|set_title": () => null,
  "plugin:event|listen": () => ++listeners,
  "plugin:event|unlisten": () => null,
};
