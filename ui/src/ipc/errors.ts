import type { ErrorKind } from "./generated/ErrorKind";
import type { IpcError } from "./generated/IpcError";

const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  "invalidInput",
  "notFound",
  "conflict",
  "dataFolder",
  "database",
  "keychain",
  "service",
  "internal",
]);

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
