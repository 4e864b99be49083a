// S3 endpoints: the list, add and edit (the secret key is write-only: left empty on edit, the
// stored one stays), remove, and a check of an endpoint against a bucket.
import { useState } from "preact/hooks";
import { ApiError, call, Params } from "../api";
import { CheckBox, FormButtons, optionalNumber, TextInput, useForm } from "../components/form";
import { useApi } from "../components/use_api";
import { Confirm, Dialog, ErrorMessage, Field, Loading, Notice, Table } from "../components/ui";
import { S3Endpoint } from "../types";

const kQuirks = [
  { value: "skip-if-none-match-header", label: "No conditional PUT (If-None-Match)" },
  { value: "delete-objects-via-delete-object", label: "No multi-object delete" },
];

const kFields = [
  "id", "endpoint", "port", "region", "access-key", "secret-key", "path-style", "fingerprint",
  "put-rate-limit", "rate-in", "burst-in", "rate-out", "burst-out", "max-connections", "provider-quirks",
];

export function S3EndpointList() {
  const endpoints = useApi<S3Endpoint[]>("/config/s3");
  const [editing, setEditing] = useState<S3Endpoint | "new" | null>(null);
  const [checking, setChecking] = useState<S3Endpoint | null>(null);
  const [removing, setRemoving] = useState<S3Endpoint | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  return (
    <>
      <h1>S3 endpoints</h1>
      <div class="actions">
        <button type="button" onClick={() => setEditing("new")}>
          Add endpoint
        </button>
      </div>
      <ErrorMessage error={error ?? endpoints.error} />
      {!endpoints.data && !endpoints.error && <Loading what="S3 endpoints" />}
      {endpoints.data && (
        <Table
          caption="S3 endpoints"
          rows={endpoints.data}
          rowKey={(row) => row.id}
          empty="No S3 endpoint yet: add one to create datastores on a bucket."
          columns={[
            { title: "Id", render: (row) => row.id },
            { title: "Endpoint", render: (row) => row.endpoint },
            { title: "Port", align: "right", render: (row) => row.port ?? "–" },
            { title: "Region", render: (row) => row.region ?? "–" },
            { title: "Addressing", render: (row) => (row["path-style"] ? "path-style" : "virtual host") },
            { title: "Fingerprint", render: (row) => (row.fingerprint ? <span class="mono small">{row.fingerprint.slice(0, 23)}…</span> : "–") },
            {
              title: "Actions",
              render: (row) => (
                <span class="row-actions">
                  <button type="button" class="small secondary" aria-label={`Edit ${row.id}`} onClick={() => setEditing(row)}>
                    Edit
                  </button>
                  <button type="button" class="small secondary" aria-label={`Check ${row.id}`} onClick={() => setChecking(row)}>
                    Check
                  </button>
                  <button type="button" class="small danger" aria-label={`Remove ${row.id}`} onClick={() => setRemoving(row)}>
                    Remove
                  </button>
                </span>
              ),
            },
          ]}
        />
      )}
      {editing && (
        <EndpointDialog
          endpoint={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            endpoints.reload();
          }}
        />
      )}
      {checking && <CheckDialog endpoint={checking} onClose={() => setChecking(null)} />}
      {removing && (
        <Confirm
          title={`Remove S3 endpoint ${removing.id}`}
          action="Remove"
          onClose={() => setRemoving(null)}
          onConfirm={() =>
            call("DELETE", `/config/s3/${encodeURIComponent(removing.id)}`)
              .then(() => endpoints.reload())
              .catch((failure: ApiError) => setError(failure))
          }
        >
          <p>The endpoint's settings and secret key are removed. Datastores that use it stop working until it is added again.</p>
        </Confirm>
      )}
    </>
  );
}

function text(value: string | number | undefined): string {
  return value === undefined ? "" : String(value);
}

function EndpointDialog({ endpoint, onClose, onSaved }: { endpoint: S3Endpoint | null; onClose: () => void; onSaved: () => void }) {
  const form = useForm({
    id: endpoint?.id ?? "",
    endpoint: endpoint?.endpoint ?? "",
    port: text(endpoint?.port),
    region: endpoint?.region ?? "",
    "access-key": endpoint?.["access-key"] ?? "",
    "secret-key": "",
    "path-style": endpoint?.["path-style"] ?? false,
    fingerprint: endpoint?.fingerprint ?? "",
    "put-rate-limit": text(endpoint?.["put-rate-limit"]),
    "rate-in": text(endpoint?.["rate-in"]),
    "burst-in": text(endpoint?.["burst-in"]),
    "rate-out": text(endpoint?.["rate-out"]),
    "burst-out": text(endpoint?.["burst-out"]),
    "max-connections": text(endpoint?.["max-connections"]),
    ...Object.fromEntries(kQuirks.map((quirk) => [quirk.value, endpoint?.["provider-quirks"]?.includes(quirk.value) ?? false])),
  });
  const v = form.values;
  const save = () =>
    form.submit(async () => {
      const params: Params = {
        endpoint: String(v.endpoint),
        region: String(v.region),
        "access-key": String(v["access-key"]),
        "path-style": Boolean(v["path-style"]),
        fingerprint: String(v.fingerprint),
        port: optionalNumber(v.port),
        "put-rate-limit": optionalNumber(v["put-rate-limit"]),
        "rate-in": optionalNumber(v["rate-in"]),
        "burst-in": optionalNumber(v["burst-in"]),
        "rate-out": optionalNumber(v["rate-out"]),
        "burst-out": optionalNumber(v["burst-out"]),
        "max-connections": optionalNumber(v["max-connections"]),
        "provider-quirks": kQuirks.filter((quirk) => v[quirk.value]).map((quirk) => quirk.value),
      };
      for (const key of ["region", "fingerprint"]) if (params[key] === "") delete params[key];
      if (v["secret-key"] !== "" || !endpoint) params["secret-key"] = String(v["secret-key"]);
      if (endpoint) {
        await call("PUT", `/config/s3/${encodeURIComponent(endpoint.id)}`, params);
      } else {
        await call("POST", "/config/s3", { ...params, id: String(v.id) });
      }
      onSaved();
    });
  return (
    <Dialog title={endpoint ? `Edit S3 endpoint ${endpoint.id}` : "Add S3 endpoint"} onClose={onClose} wide>
      <form
        class="grid-form"
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        {!endpoint && <TextInput form={form} name="id" label="Id" required hint="How datastores name this endpoint." />}
        <TextInput form={form} name="endpoint" label="Endpoint" required placeholder="s3.example.com or https://host" />
        <TextInput form={form} name="port" label="Port" hint="Empty: 443 (or the URL's)." />
        <TextInput form={form} name="region" label="Region" placeholder="us-east-1" />
        <TextInput form={form} name="access-key" label="Access key" required />
        <TextInput
          form={form}
          name="secret-key"
          label="Secret key"
          type="password"
          required={!endpoint}
          autoComplete="new-password"
          hint={endpoint ? "Leave empty to keep the stored key; it is never shown." : "Stored on the server, never shown again."}
        />
        <TextInput form={form} name="fingerprint" label="Certificate fingerprint" hint="SHA-256, for a self-signed certificate." />
        <CheckBox form={form} name="path-style" label="Path-style addressing" hint="For MinIO, Ceph RGW and other hosts without bucket subdomains." />
        <TextInput form={form} name="put-rate-limit" label="PUT requests per second" hint="Empty: unlimited." />
        <TextInput form={form} name="max-connections" label="Concurrent requests" />
        <TextInput form={form} name="rate-in" label="Download rate (bytes/s)" />
        <TextInput form={form} name="burst-in" label="Download burst (bytes)" />
        <TextInput form={form} name="rate-out" label="Upload rate (bytes/s)" />
        <TextInput form={form} name="burst-out" label="Upload burst (bytes)" />
        <fieldset class="span">
          <legend>Provider quirks</legend>
          {kQuirks.map((quirk) => (
            <CheckBox form={form} name={quirk.value} label={quirk.label} />
          ))}
        </fieldset>
        <div class="span">
          <FormButtons form={form} fields={kFields} submit={endpoint ? "Save" : "Add"} onClose={onClose} />
        </div>
      </form>
    </Dialog>
  );
}

interface CheckResult {
  ok: boolean;
  checks: { check: string; ok: boolean; detail: string }[];
  "clock-skew-seconds"?: number;
}

function CheckDialog({ endpoint, onClose }: { endpoint: S3Endpoint; onClose: () => void }) {
  const [bucket, setBucket] = useState("");
  const [result, setResult] = useState<CheckResult | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const buckets = useApi<{ name: string }[]>(`/config/s3/${encodeURIComponent(endpoint.id)}/list-buckets`);
  const check = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(null);
    try {
      setResult(await call<CheckResult>("PUT", `/admin/s3/${encodeURIComponent(endpoint.id)}/check`, { bucket }));
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Check S3 endpoint ${endpoint.id}`} onClose={onClose}>
      <form onSubmit={check}>
        <Field label="Bucket" error={error?.errors.bucket} hint={buckets.error ? `Buckets cannot be listed: ${buckets.error.message}` : undefined}>
          {(id, describedBy) => (
            <>
              <input id={id} list="check-buckets" required value={bucket} aria-describedby={describedBy}
                     onInput={(event) => setBucket(event.currentTarget.value)} />
              <datalist id="check-buckets">
                {(buckets.data ?? []).map((item) => (
                  <option value={item.name} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? "Checking…" : "Check"}
          </button>
        </div>
      </form>
      <ErrorMessage error={error && !error.errors.bucket ? error : undefined} />
      {result && (
        <>
          <Notice>
            Every check passed; the server's clock is {Math.abs(result["clock-skew-seconds"] ?? 0)} s off the endpoint's.
          </Notice>
          <Table
            caption="Checks"
            rows={result.checks}
            rowKey={(row) => row.check}
            columns={[
              { title: "Check", render: (row) => row.check },
              { title: "Result", render: (row) => <span class={`badge ${row.ok ? "ok" : "error"}`}>{row.ok ? "ok" : "failed"}</span> },
              { title: "Detail", render: (row) => row.detail },
            ]}
          />
        </>
      )}
    </Dialog>
  );
}
