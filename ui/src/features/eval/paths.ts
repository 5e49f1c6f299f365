// An eval file names its flow and data relative to its own folder (docs/eval-format.md), while the
// dialogs answer absolute paths: the two conversions, for `/` and `\` separated paths alike.
const SEP = /[\\/]/;

export function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut < 0 ? "" : path.slice(0, cut);
}

export function fileName(path: string): string {
  return path.split(SEP).pop() ?? path;
}

const isAbsolute = (path: string) => path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(path);

/** `path` as the eval file at `evalPath` reads it: absolute, `..` and `.` resolved. */
export function resolveFrom(evalPath: string, path: string): string {
  if (isAbsolute(path)) return path;
  const folder = folderOf(evalPath);
  const sep = folder.includes("\\") && !folder.includes("/") ? "\\" : "/";
  const parts = folder.split(SEP);
  for (const part of path.split(SEP)) {
    if (part === "..") {
      // Never above the root: `/a/../../b` is `/b`.
      if (parts.length > 1) parts.pop();
    } else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join(sep);
}

/** `path` relative to the eval file's folder when it is inside it (or below), else as it is. */
export function relativeTo(evalPath: string, path: string): string {
  const folder = folderOf(evalPath);
  if (folder && (path.startsWith(`${folder}/`) || path.startsWith(`${folder}\\`))) return path.slice(folder.length + 1);
  return path;
}

/** Where the eval of a flow goes by default: `chat.weft.yaml` → `chat.eval.yaml` beside it. */
export function evalPathFor(flowPath: string): string {
  return `${flowPath.replace(/\.weft\.ya?ml$/, "").replace(/\.ya?ml$/, "")}.eval.yaml`;
}
