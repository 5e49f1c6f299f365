// The column mapping as the Batch panel edits it. Rust's text form (Prompt flow's, the CLI's
// `--column-mapping INPUT='${data.COL}'`) is `${data.COLUMN}` for a column and any other text for
// a static value; an input left out takes its default, else the same-named column. The editor
// holds one entry per flow input and turns it back into that text for `batch_start`.
import type { FlowInput } from "../../ipc/generated/FlowInput";

export type MappingEntry =
  /** The row's value in this column. */
  | { kind: "column"; column: string }
  /** The same text for every row. */
  | { kind: "static"; value: string }
  /** Nothing mapped: the input's default, else a column of the same name (Rust's precedence). */
  | { kind: "unmapped" };

export type MappingEntries = Record<string, MappingEntry>;

/** The text Rust reads for one entry; `null` for an unmapped input, which is left out. */
export function entryText(entry: MappingEntry): string | null {
  switch (entry.kind) {
    case "column":
      return `\${data.${entry.column}}`;
    case "static":
      return entry.value;
    case "unmapped":
      return null;
  }
}

/** Rust's MappingValue::parse: one `${data.COLUMN}` reference (spaces around it and the column
 * name trimmed), or any other text as a static value. */
export function parseEntry(text: string): MappingEntry {
  const trimmed = text.trim();
  if (trimmed.startsWith("${") && trimmed.endsWith("}")) {
    const inner = trimmed.slice(2, -1);
    const column = inner.startsWith("data.") && !inner.includes("${") ? inner.slice(5).trim() : "";
    if (column) return { kind: "column", column };
  }
  return { kind: "static", value: text };
}

/** One entry per flow input, read from a stored or suggested mapping (inputs it lacks: unmapped). */
export function entriesFrom(inputNames: readonly string[], mapping: Record<string, string>): MappingEntries {
  return Object.fromEntries(
    inputNames.map((name) => {
      const text = mapping[name];
      return [name, text === undefined ? { kind: "unmapped" } : parseEntry(text)];
    }),
  );
}

/** The mapping `batch_start` takes: input → text, unmapped inputs left out. */
export function mappingOf(entries: MappingEntries): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const text = entryText(entry);
    if (text !== null) out[name] = text;
  }
  return out;
}

/** What fills the input for a row when it is unmapped, as the panel says it. */
export function unmappedSource(input: FlowInput, name: string, columns: readonly string[]): string | null {
  if (input.default !== undefined) return "its default";
  if (columns.includes(name)) return `the column ${name}`;
  return null;
}

/**
 * What is wrong with the mapping before anything runs, per input, in the words the panel shows.
 * Rust checks again when the batch starts (and its message wins); this only keeps Start from
 * offering a batch that cannot run. `strictColumns`: the file has a header every row follows
 * (CSV), so a column it lacks is an error; JSONL objects may each carry other keys.
 */
export function mappingProblems(
  inputs: Record<string, FlowInput>,
  entries: MappingEntries,
  columns: readonly string[],
  strictColumns: boolean,
): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [name, input] of Object.entries(inputs)) {
    const entry = entries[name] ?? { kind: "unmapped" };
    if (entry.kind === "column") {
      if (!entry.column) problems[name] = "Choose a column.";
      else if (strictColumns && !columns.includes(entry.column))
        problems[name] = `The file has no column ${entry.column}; choose one of its columns.`;
    } else if (entry.kind === "static") {
      const problem = staticProblem(input, entry.value);
      if (problem) problems[name] = problem;
    } else if (unmappedSource(input, name, columns) === null) {
      problems[name] = "No column has this name and the input has no default: choose a column or type a value.";
    }
  }
  return problems;
}


/** Rust reads a static value as its input's type, like a CSV cell; what it would refuse. */
function staticProblem(input: FlowInput, text: string): string | null {
  // A value is one reference or plain text, as in Prompt flow: `${` inside it is not a template.
  if (text.includes("${")) return "Only ${data.COLUMN} can be referenced; choose the column instead, or type a plain value.";
  const trimmed = text.trim();
  switch (input.type) {
    case "number":
      return trimmed !== "" && Number.isFinite(Number(trimmed)) ? null : "Type a number.";
    case "bool":
      return /^(true|false)$/i.test(trimmed) ? null : "Type true or false.";
    case "object":
    case "connection":
    case "list": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        parsed = undefined;
      }
      const ok = input.type === "list" ? Array.isArray(parsed) : !!parsed && typeof parsed === "object" && !Array.isArray(parsed);
      return ok ? null : `Type ${input.type === "list" ? "a JSON list, like [1, 2]" : 'a JSON object, like {"a": 1}'}.`;
    }
    default:
      return null;
  }
}
