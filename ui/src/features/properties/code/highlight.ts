// Jinja highlighting shared by the live editor and its static preview: one highlighter that gives
// tokens CSS classes (styled in properties.css), so both look the same and the preview costs no editor.
import { StreamLanguage } from "@codemirror/language";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";
import { highlightTree, tagHighlighter, tags } from "@lezer/highlight";

export const jinja = StreamLanguage.define(jinja2);

export const highlighter = tagHighlighter([
  { tag: [tags.keyword, tags.controlKeyword, tags.operatorKeyword], class: "tok-keyword" },
  { tag: [tags.string, tags.special(tags.string)], class: "tok-string" },
  { tag: [tags.number, tags.bool, tags.atom], class: "tok-literal" },
  { tag: tags.comment, class: "tok-comment" },
  { tag: [tags.bracket, tags.brace, tags.tagName], class: "tok-delimiter" },
]);

/** The text as runs of plain and highlighted text, for the preview. */
export function highlightRuns(text: string): { text: string; className?: string }[] {
  const runs: { text: string; className?: string }[] = [];
  let at = 0;
  highlightTree(jinja.parser.parse(text), highlighter, (from, to, className) => {
    if (from > at) runs.push({ text: text.slice(at, from) });
    runs.push({ text: text.slice(from, to), className });
    at = to;
  });
  if (at < text.length) runs.push({ text: text.slice(at) });
  return runs;
}
