import type { ErrorKind } from "./generated/ErrorKind";
import type { IpcError } from "./generated/IpcError";

// A record, so that a kind added in Rust fails the type check here until it is listed.
const KINDS: ReadonlySet<string> = new Set(
  Object.keys({
    invalidInput: true,
    notFound: true,
    conflict: true,
    // A run with that id is already in progress.
    busy: true,
    changedOnDisk: true,
    // A file could not be read or written (permissions, a folder in its place, a full disk).
    io: true,
    dataFolder: true,
    database: true,
    keychain: true,
    service: true,
    internal: true,
  } satisfies Record<ErrorKind, true>),
);

function isIpcError(raw: unknown): raw is IpcError {
  if (typeof raw !== "object" || raw === null) return false;
  const candidate = raw as Record<string, unknown>;
  return typeof candidate.kind === "string" && KINDS.has(candidate.kind) && typeof candidate.message === "string";
}

/** Whatever a command rejected with, as the typed error the UI branches on. */
export function toIpcError(raw: unknown): IpcError {
  if (isIpcError(raw)) return { ...raw, problems: Array.isArray(raw.problems) ? raw.problems : [] };
  const message = raw instanceof Error ? raw.message : String(raw);
  return { kind: "internal", message, problems: [] };
}
