// `${…}` references inside property values, parsed the way weft-flow's reference.rs does.

export type Source = { kind: "input"; name: string } | { kind: "var"; name: string } | { kind: "node"; id: string; port: string };

export type Reference = { source: Source; path: string[]; start: number; end: number };

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const INDEX = /^[0-9]+$/;

/** A valid node id (and flow input/output or variable name). */
export function isIdent(text: string): boolean {
  return IDENT.test(text);
}

/** Every well-formed reference in `text`; malformed ones are the validator's to report. */
export function findReferences(text: string): Reference[] {
  const found: Reference[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf("${", from);
    if (start < 0) break;
    const close = text.indexOf("}", start + 2);
    if (close < 0) break;
    const end = close + 1;
    from = end;
    const segments = text.slice(start + 2, close).trim().split(".");
    const [head, second] = segments;
    if (head === undefined || second === undefined || !IDENT.test(head) || !IDENT.test(second)) continue;
    const path = segments.slice(2);
    if (!path.every((s) => IDENT.test(s) || INDEX.test(s))) continue;
    const source: Source =
      head === "inputs" ? { kind: "input", name: second } : head === "vars" ? { kind: "var", name: second } : { kind: "node", id: head, port: second };
    found.push({ source, path, start, end });
  }
  return found;
}

/** The reference text for a node port or a flow input. */
export function referenceTo(node: string, port: string): string {
  return node === "inputs" ? `\${inputs.${port}}` : `\${${node}.${port}}`;
}

/** Calls `visit` on every string inside a JSON value (map values, list items), rebuilding it. */
export function mapStrings<T>(value: T, visit: (text: string) => string): T {
  if (typeof value === "string") return visit(value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const next = value.map((item: unknown) => {
      const mapped = mapStrings(item, visit);
      if (mapped !== item) changed = true;
      return mapped;
    });
    return (changed ? next : value) as T;
  }
  if (value && typeof value === "object") {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const mapped = mapStrings(item, visit);
      if (mapped !== item) changed = true;
      next[key] = mapped;
    }
    return (changed ? next : value) as T;
  }
  return value;
}

/** Rewrites node references in `text` through `rename` (old id → new id); other text is kept. */
export function renameReferences(text: string, rename: (id: string) => string | undefined): string {
  const refs = findReferences(text);
  if (!refs.length) return text;
  let out = "";
  let last = 0;
  for (const ref of refs) {
    if (ref.source.kind !== "node") continue;
    const next = rename(ref.source.id);
    if (next === undefined || next === ref.source.id) continue;
    const inner = [next, ref.source.port, ...ref.path].join(".");
    out += text.slice(last, ref.start) + `\${${inner}}`;
    last = ref.end;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** A readable id not in `taken`: `chat`, then `chat_2`, `chat_3`… */
export function uniqueId(base: string, taken: ReadonlySet<string> | ((id: string) => boolean)): string {
  const has = typeof taken === "function" ? taken : (id: string) => taken.has(id);
  const stem = base.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^([^A-Za-z_])/, "_$1") || "node";
  if (!has(stem)) return stem;
  // A copy of `chat_2` is `chat_3`, not `chat_2_2`.
  const root = stem.replace(/_\d+$/, "") || stem;
  for (let n = 2; ; n++) if (!has(`${root}_${n}`)) return `${root}_${n}`;
}
