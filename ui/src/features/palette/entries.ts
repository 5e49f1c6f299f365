// What can be added to a flow: every kind in the catalog, plus comment notes.
import { catalog, groups, kindIcon } from "../editor/catalog";

export type PaletteEntry = { kind: string; title: string; description: string; icon: string; group: string };

export const paletteEntries: PaletteEntry[] = [
  ...groups.flatMap(({ group, label }) =>
    catalog.filter((spec) => spec.group === group).map((spec) => ({ kind: spec.kind, title: spec.title, description: spec.description, icon: kindIcon(spec.kind), group: label })),
  ),
  { kind: "note", title: "Note", description: "A comment on the canvas; it takes no part in a run.", icon: "✎", group: "Canvas" },
];

/** Entries whose title, kind or description contains every word of `query`. */
export function searchEntries(query: string): PaletteEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return paletteEntries;
  return paletteEntries.filter((e) => {
    const text = `${e.title} ${e.kind} ${e.description} ${e.group}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}
