// Templates and expressions: a CodeMirror 6 editor with Jinja highlighting and completion
// (code/completion.ts). The editor is created when the field is first focused or clicked; until
// then the field is a highlighted preview of the same size, so selecting a node creates no editor
// (ui/bench/README.md: it was a large part of adding a node); most selections never edit the prompt.
import { autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap } from "@codemirror/commands";
import { syntaxHighlighting } from "@codemirror/language";
import { Annotation, Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { type KeyboardEvent, type PointerEvent, memo, useEffect, useMemo, useRef, useState } from "react";

import { useEditor } from "../editor/store";
import { completions } from "./code/completion";
import { highlightRuns, highlighter, jinja } from "./code/highlight";

/** Marks text set from the store, which must not be written back as an edit. */
const External = Annotation.define<boolean>();

const theme = EditorView.theme({
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "1px" },
  ".cm-content": { caretColor: "var(--text)" },
  ".cm-tooltip-autocomplete": { background: "var(--surface)", border: "1px solid var(--border)" },
});

type Props = {
  id: string;
  nodeId: string;
  value: string;
  label: string;
  mode: "template" | "expression";
  placeholderText: string;
  invalid: boolean;
  onChange: (text: string) => void;
  onBlur: () => void;
};

const contentAttributes = (label: string, id: string, invalid: boolean) => EditorView.contentAttributes.of({ "aria-label": label, id, "aria-invalid": String(invalid) });

/** Where the editor should put the cursor when it opens: at a click, or at the end. */
type OpenAt = { x: number; y: number } | "end";

export function CodeField(props: Props) {
  const [openAt, setOpenAt] = useState<OpenAt | null>(null);
  return openAt ? <LiveEditor {...props} openAt={openAt} /> : <Preview {...props} onOpen={setOpenAt} />;
}

const Preview = memo(function Preview({ id, value, label, placeholderText, invalid, onOpen }: Props & { onOpen: (at: OpenAt) => void }) {
  const runs = useMemo(() => highlightRuns(value), [value]);
  return (
    <div
      className="code-field code-preview"
      data-testid={`code-${id}`}
      id={id}
      role="textbox"
      aria-multiline
      aria-label={label}
      aria-invalid={invalid}
      tabIndex={0}
      onPointerDown={(event: PointerEvent) => {
        if (event.button !== 0) return;
        event.preventDefault();
        onOpen({ x: event.clientX, y: event.clientY });
      }}
      onFocus={() => onOpen("end")}
      onKeyDown={(event: KeyboardEvent) => event.key === "Enter" && onOpen("end")}
    >
      <div className="code-preview-text">
        {value === "" ? (
          <span className="code-preview-placeholder">{placeholderText}</span>
        ) : (
          runs.map((run, i) =>
            run.className ? (
              <span key={i} className={run.className}>
                {run.text}
              </span>
            ) : (
              run.text
            ),
          )
        )}
      </div>
    </div>
  );
});

function LiveEditor({ id, nodeId, value, label, mode, placeholderText, invalid, onChange, onBlur, openAt }: Props & { openAt: OpenAt }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const attributes = useRef(new Compartment());
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
          jinja,
          syntaxHighlighting(highlighter),
          autocompletion({ override: [completions(() => useEditor.getState().document, nodeId, mode)], activateOnTyping: true }),
          keymap.of(defaultKeymap),
          EditorView.lineWrapping,
          placeholder(placeholderText),
          theme,
          attributes.current.of(contentAttributes(label, id, invalid)),
          EditorView.updateListener.of((update) => {
            if (update.docChanged && !update.transactions.some((t) => t.annotation(External))) callbacks.current.onChange(update.state.doc.toString());
            if (update.focusChanged && !update.view.hasFocus) callbacks.current.onBlur();
          }),
        ],
      }),
    });
    view.current = editor;
    const cursor = openAt === "end" ? editor.state.doc.length : (editor.posAtCoords(openAt) ?? editor.state.doc.length);
    editor.dispatch({ selection: { anchor: cursor } });
    editor.focus();
    return () => editor.destroy();
    // One editor per field, opened once; later values arrive through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [nodeId, id]);

  // Undo, redo and renames change the text from outside.
  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value }, annotations: External.of(true) });
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: attributes.current.reconfigure(contentAttributes(label, id, invalid)) });
  }, [label, id, invalid]);

  return <div ref={host} className="code-field" data-testid={`code-${id}`} />;
}
