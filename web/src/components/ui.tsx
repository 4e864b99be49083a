// Small building blocks shared by the pages: messages, a labelled field with its error, a
// modal dialog, a data table and a confirmation.
import { ComponentChildren, JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ApiError } from "../api";

export function ErrorMessage({ error }: { error: ApiError | Error | string | undefined | null }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.message;
  return (
    <div class="message error" role="alert">
      {text}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="message info" role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

let fieldCounter = 0;

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => JSX.Element;
}

// A label, the input the render function makes (given its id), and its error or hint.
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useRef(`field-${++fieldCounter}`).current;
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children(id, describedBy)}
      {error ? (
        <div class="field-error" id={`${id}-error`}>
          {error}
        </div>
      ) : hint ? (
        <div class="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      ) : null}
    </div>
  );
}

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}

// A modal <dialog>: the browser keeps focus inside and closes it on Escape.
export function Dialog({ title, onClose, children, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? "wide" : ""}
      aria-labelledby="dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header>
        <h2 id="dialog-title">{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}

export interface Column<T> {
  title: string;
  render: (row: T) => ComponentChildren;
  align?: "right";
}

interface TableProps<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  empty?: string;
}

// The caption (for screen readers) and the column titles of a table.
export function TableHead<T>({ caption, columns }: { caption: string; columns: Column<T>[] }) {
  return (
    <>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col" class={column.align}>
              {column.title}
            </th>
          ))}
        </tr>
      </thead>
    </>
  );
}

export function EmptyRow({ columns, text }: { columns: number; text?: ComponentChildren }) {
  return (
    <tr>
      <td colSpan={columns} class="empty">
        {text ?? "Nothing here yet."}
      </td>
    </tr>
  );
}

export function Table<T>({ caption, columns, rows, rowKey, empty }: TableProps<T>) {
  return (
    <table>
      <TableHead caption={caption} columns={columns} />
      <tbody>
        {rows.length === 0 ? (
          <EmptyRow columns={columns.length} text={empty} />
        ) : (
          rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => (
                <td class={column.align}>{column.render(row)}</td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

interface ConfirmProps {
  title: string;
  children: ComponentChildren;
  action: string;
  onClose: () => void;
  onConfirm: () => Promise<unknown>;
}

// Asks before something that cannot be undone; closes once `onConfirm` settles.
export function Confirm({ title, children, action, onClose, onConfirm }: ConfirmProps) {
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      <div class="actions">
        <button type="button" class="danger" onClick={() => onConfirm().finally(onClose)}>
          {action}
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
