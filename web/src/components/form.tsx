// Forms that submit to the API: the values, the submit state and the API's answer, with each
// parameter error shown next to its field and any other error above the buttons.
import { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { ErrorMessage, Field } from "./ui";

export type Values = Record<string, string | boolean>;

export function useForm(initial: Values) {
  const [values, setValues] = useState<Values>(initial);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string | boolean) => setValues((old) => ({ ...old, [name]: value }));
  // Runs `action`; keeps the form (and what was typed) if it fails.
  const submit = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new ApiError(String(failure), 0));
    } finally {
      setBusy(false);
    }
  };
  return { values, set, error, busy, submit };
}

export type Form = ReturnType<typeof useForm>;

// The end of a form: the error that no field shows, the submit button and Cancel.
export function FormButtons(props: { form: Form; fields: string[]; submit: string; busy?: string; onClose: () => void }) {
  return (
    <>
      <FormError form={props.form} fields={props.fields} />
      <div class="actions">
        <button type="submit" disabled={props.form.busy}>
          {props.form.busy && props.busy ? props.busy : props.submit}
        </button>
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </>
  );
}

// The message of an error that names no field of the form (those show beside their field).
export function FormError({ form, fields }: { form: Form; fields: string[] }) {
  const error = form.error;
  if (!error) return null;
  const unshown = Object.keys(error.errors).filter((name) => !fields.includes(name));
  if (Object.keys(error.errors).length > 0 && unshown.length === 0) {
    return <ErrorMessage error="Please correct the fields marked below." />;
  }
  return <ErrorMessage error={error} />;
}

interface InputProps {
  form: Form;
  name: string;
  label: string;
  hint?: string;
  type?: string;
  required?: boolean;
  placeholder?: string;
  autoComplete?: string;
}

export function TextInput({ form, name, label, hint, type = "text", required, placeholder, autoComplete }: InputProps) {
  return (
    <Field label={label} hint={hint} error={form.error?.errors[name]}>
      {(id, describedBy) => (
        <input
          id={id}
          name={name}
          type={type}
          required={required}
          placeholder={placeholder}
          autoComplete={autoComplete ?? "off"}
          value={String(form.values[name] ?? "")}
          aria-invalid={form.error?.errors[name] ? true : undefined}
          aria-describedby={describedBy}
          onInput={(event) => form.set(name, event.currentTarget.value)}
        />
      )}
    </Field>
  );
}

export function CheckBox({ form, name, label, hint }: { form: Form; name: string; label: string; hint?: string }) {
  const error = form.error?.errors[name];
  return (
    <div class="field">
      <label class="check">
        <input
          type="checkbox"
          name={name}
          checked={Boolean(form.values[name])}
          onChange={(event) => form.set(name, event.currentTarget.checked)}
        />
        {label}
      </label>
      {error ? <div class="field-error">{error}</div> : hint ? <div class="field-hint">{hint}</div> : null}
    </div>
  );
}

interface SelectProps {
  form: Form;
  name: string;
  label: string;
  hint?: string;
  options: { value: string; label: string }[];
  children?: ComponentChildren;
}

export function Select({ form, name, label, hint, options, children }: SelectProps) {
  return (
    <Field label={label} hint={hint} error={form.error?.errors[name]}>
      {(id, describedBy) => (
        <span class="select-row">
          <select
            id={id}
            name={name}
            value={String(form.values[name] ?? "")}
            aria-describedby={describedBy}
            onChange={(event) => form.set(name, event.currentTarget.value)}
          >
            {options.map((option) => (
              <option value={option.value}>{option.label}</option>
            ))}
          </select>
          {children}
        </span>
      )}
    </Field>
  );
}

// Optional integer parameters: "" -> left out, digits -> a number, anything else as typed (the
// API says what is wrong with it, next to the field).
export function optionalNumber(value: string | boolean | undefined): number | string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
}
