// A datastore's options on its summary page: maintenance mode, "Refresh from bucket" for S3
// stores, and removal with the choice of deleting the data spelled out.
import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { CheckBox, FormError, Select, TextInput, useForm } from "../components/form";
import { useApi } from "../components/use_api";
import { Dialog, ErrorMessage } from "../components/ui";
import { parseProperties } from "../format";
import { navigate } from "../router";
import { DatastoreConfig } from "../types";

export function DatastoreOptions({ store }: { store: string }) {
  const config = useApi<DatastoreConfig>(`/config/datastore/${encodeURIComponent(store)}`);
  const [removing, setRemoving] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  if (!config.data) return <ErrorMessage error={config.error} />;
  const backend = parseProperties(config.data.backend);
  const s3 = backend.type === "s3";
  const refresh = () =>
    call<string>("PUT", `/admin/datastore/${encodeURIComponent(store)}/s3-refresh`)
      .then((upid) => navigate("tasks", upid))
      .catch((failure: ApiError) => setError(failure));
  return (
    <section class="card" aria-labelledby="options-title">
      <h2 id="options-title">Options</h2>
      <dl class="facts">
        <dt>Path</dt>
        <dd class="mono small">{config.data.path}</dd>
        {s3 && (
          <>
            <dt>Bucket</dt>
            <dd>
              {backend.bucket} on {backend.client}
            </dd>
          </>
        )}
      </dl>
      <MaintenanceForm store={store} current={config.data["maintenance-mode"]} onSaved={config.reload} />
      <ErrorMessage error={error} />
      <div class="actions">
        {s3 && (
          <button type="button" class="secondary" onClick={refresh}>
            Refresh from bucket
          </button>
        )}
        <button type="button" class="danger" onClick={() => setRemoving(true)}>
          Remove datastore
        </button>
      </div>
      {removing && <RemoveDialog store={store} config={config.data} onClose={() => setRemoving(false)} />}
    </section>
  );
}

function MaintenanceForm({ store, current, onSaved }: { store: string; current?: string; onSaved: () => void }) {
  const mode = parseProperties(current);
  const form = useForm({ type: mode.type ?? "none", message: mode.message ?? "" });
  const [saved, setSaved] = useState(false);
  const save = () =>
    form.submit(async () => {
      const type = String(form.values.type);
      const message = String(form.values.message).trim();
      if (type === "none") {
        await call("PUT", `/config/datastore/${encodeURIComponent(store)}`, { delete: ["maintenance-mode"] });
      } else {
        await call("PUT", `/config/datastore/${encodeURIComponent(store)}`, {
          "maintenance-mode": `type=${type}${message ? `,message=${message}` : ""}`,
        });
      }
      setSaved(true);
      onSaved();
    });
  const shown = mode.type === "s3-refresh";
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
      aria-label="Maintenance mode"
    >
      {shown && <p class="message info">A refresh from the bucket is running: the datastore is in maintenance until it ends.</p>}
      <Select
        form={form}
        name="type"
        label="Maintenance mode"
        hint="Read-only refuses backups and removals; offline refuses everything."
        options={[
          { value: "none", label: "None" },
          { value: "read-only", label: "Read-only" },
          { value: "offline", label: "Offline" },
          ...(shown ? [{ value: "s3-refresh", label: "Refreshing from the bucket" }] : []),
        ]}
      />
      <TextInput form={form} name="message" label="Message to users" hint="Optional; shown with refused requests." />
      <FormError form={form} fields={["maintenance-mode", "message"]} />
      <div class="actions">
        <button type="submit" disabled={form.busy || shown}>
          Set maintenance mode
        </button>
        {saved && !form.busy && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}

function RemoveDialog({ store, config, onClose }: { store: string; config: DatastoreConfig; onClose: () => void }) {
  const form = useForm({ "destroy-data": false });
  const backend = parseProperties(config.backend);
  const where = backend.type === "s3" ? `the bucket ${backend.bucket} and the local cache in ${config.path}` : config.path;
  const remove = () =>
    form.submit(async () => {
      const upid = await call<string>("DELETE", `/config/datastore/${encodeURIComponent(store)}`, {
        "destroy-data": Boolean(form.values["destroy-data"]),
      });
      onClose();
      navigate("tasks", upid);
    });
  return (
    <Dialog title={`Remove datastore ${store}`} onClose={onClose}>
      <p>
        The datastore leaves the server's configuration. Its backups stay in {where} and can be added again later,
        unless you also delete them:
      </p>
      <CheckBox form={form} name="destroy-data" label={`Delete all backups and chunks in ${where}`}
                hint="This cannot be undone." />
      <FormError form={form} fields={[]} />
      <div class="actions">
        <button type="button" class="danger" disabled={form.busy} onClick={remove}>
          {form.values["destroy-data"] ? "Remove and delete all data" : "Remove"}
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
