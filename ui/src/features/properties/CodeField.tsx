// A CodeMirror 6 editor for templates and expressions: Jinja highlighting, and completion of
// `${…}` references (flow inputs, variables, node outputs) read from the flow being edited.
import { type CompletionContext, autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap } from "@codemirror/commands";
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";
import { Annotation, EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { useEffect, useRef } from "react";

import { kindSpec } from "../editor/catalog";
import { useEditor } from "../editor/store";

/** Marks text set from the store, which must not be written back as an edit. */
const External = Annotation.define<boolean>();

const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.controlKeyword, tags.operatorKeyword], color: "var(--accent)", fontWeight: "600" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--ok)" },
  { tag: [tags.number, tags.bool, tags.atom], color: "var(--warning)" },
  { tag: [tags.comment], color: "var(--text-muted)", fontStyle: "italic" },
  { tag: [tags.variableName, tags.propertyName], color: "var(--text)" },
  { tag: [tags.bracket, tags.brace, tags.tagName], color: "var(--accent)" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "12.5px", border: "1px solid var(--border)", borderRadius: "6px", background: "var(--surface)", color: "var(--text)" },
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "1px" },
  ".cm-content": { fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', padding: "6px 0", caretColor: "var(--text)" },
  ".cm-scroller": { maxHeight: "220px", overflow: "auto" },
  ".cm-placeholder": { color: "var(--text-muted)" },
  ".cm-tooltip-autocomplete": { background: "var(--surface)", border: "1px solid var(--border)" },
});

/** `${…}` completions from the current flow, without the node being edited. */
function references(self: string) {
  return (context: CompletionContext) => {
    const match = context.matchBefore(/\$\{[\w.-]*/);
    if (!match) return null;
    const doc = useEditor.getState().document;
    const options: { label: string; detail?: string }[] = [];
    for (const [name, input] of Object.entries(doc.inputs ?? {})) options.push({ label: `\${inputs.${name}}`, detail: `input · ${input.type}` });
    for (const node of doc.nodes) {
      if (node.type === "declare_variable" && typeof node.properties?.name === "string")
        options.push({ label: `\${vars.${node.properties.name}}`, detail: "variable" });
      if (node.id === self) continue;
      for (const output of kindSpec(node.type)?.outputs ?? []) options.push({ label: `\${${node.id}.${output.port}}`, detail: output.value_type });
    }
    return { from: match.from, options, validFor: /^\$\{[\w.-]*$/ };
  };
}

type Props = { id: string; nodeId: string; value: string; label: string; placeholderText?: string; invalid: boolean; onChange: (text: string) => void; onBlur: () => void };

export function CodeField({ id, nodeId, value, label, placeholderText, invalid, onChange, onBlur }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The latest callbacks, read by the long-lived editor.
  const callbacks = useRef({ onChange, onBlur });
  useEffect(() => {
    callbacks.current = { onChange, onBlur };
  });

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          StreamLanguage.define(jinja2),
          syntaxHighlighting(highlight),
          autocompletion({ override: [references(nodeId)], activateOnTyping: true }),
          keymap.of(defaultKeymap),
          EditorView.lineWrapping,
          placeholder(placeholderText ?? ""),
          theme,
          EditorView.contentAttributes.of({ "aria-label": label, id, "aria-invalid": String(invalid) }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged && !update.transactions.some((t) => t.annotation(External))) callbacks.current.onChange(update.state.doc.toString());
            if (update.focusChanged && !update.view.hasFocus) callbacks.current.onBlur();
          }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
    // One editor per field; later values arrive through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [nodeId, id]);

  // Undo, redo and renames change the text from outside.
  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value }, annotations: External.of(true) });
  }, [value]);

  return <div ref={host} className="code-field" data-testid={`code-${id}`} />;
}
