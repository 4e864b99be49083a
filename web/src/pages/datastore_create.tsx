// Creating a datastore, on a local path or on an S3 bucket (a local path then holds its cache):
// the S3 endpoint from the configured ones, the bucket from those the endpoint lists. The API's
// check of the bucket (in use elsewhere, not empty, unreachable) shows next to its field.
import { call, Params } from "../api";
import { CheckBox, FormButtons, optionalNumber, Select, TextInput, useForm } from "../components/form";
import { useApi } from "../components/use_api";
import { Dialog, Field } from "../components/ui";
import { navigate } from "../router";
import { S3Endpoint } from "../types";

const kFields = ["name", "path", "backend", "max-cache-size", "reuse-datastore", "overwrite-in-use"];

export function CreateDatastoreDialog({ onClose }: { onClose: () => void }) {
  const form = useForm({
    name: "",
    type: "filesystem",
    path: "",
    client: "",
    bucket: "",
    "max-cache-size": "",
    "reuse-datastore": false,
    "overwrite-in-use": false,
  });
  const v = form.values;
  const s3 = v.type === "s3";
  const endpoints = useApi<S3Endpoint[]>(s3 ? "/config/s3" : null);
  const client = String(v.client || endpoints.data?.[0]?.id || "");
  const buckets = useApi<{ name: string }[]>(s3 && client ? `/config/s3/${encodeURIComponent(client)}/list-buckets` : null);
  const create = () =>
    form.submit(async () => {
      const params: Params = { name: String(v.name), path: String(v.path) };
      if (s3) {
        params.backend = `type=s3,client=${client},bucket=${String(v.bucket)}`;
        params["max-cache-size"] = optionalNumber(v["max-cache-size"]);
        params["reuse-datastore"] = Boolean(v["reuse-datastore"]);
        params["overwrite-in-use"] = Boolean(v["overwrite-in-use"]);
      }
      const upid = await call<string>("POST", "/config/datastore", params);
      onClose();
      navigate("tasks", upid);
    });
  const backendError = form.error?.errors.backend;
  return (
    <Dialog title="Create datastore" onClose={onClose} wide>
      <form
        class="grid-form"
        onSubmit={(event) => {
          event.preventDefault();
          create();
        }}
      >
        <TextInput form={form} name="name" label="Name" required />
        <Select
          form={form}
          name="type"
          label="Datastore type"
          options={[
            { value: "filesystem", label: "Local filesystem" },
            { value: "s3", label: "S3 bucket" },
          ]}
        />
        <TextInput
          form={form}
          name="path"
          label={s3 ? "Local cache path" : "Path"}
          required
          placeholder="/srv/cairn/store1"
          hint={s3 ? "An absolute path on the server for the cache in front of the bucket." : "An absolute path on the server."}
        />
        {s3 && (
          <>
            <Field
              label="S3 endpoint"
              error={endpoints.error?.message}
              hint={endpoints.data?.length === 0 ? "No endpoint yet: add one under S3 endpoints first." : undefined}
            >
              {(id, describedBy) => (
                <select id={id} value={client} aria-describedby={describedBy} onChange={(event) => form.set("client", event.currentTarget.value)}>
                  {(endpoints.data ?? []).map((endpoint) => (
                    <option value={endpoint.id}>{endpoint.id}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Bucket" error={backendError} hint={buckets.error ? `The buckets cannot be listed: ${buckets.error.message}` : undefined}>
              {(id, describedBy) => (
                <select id={id} value={String(v.bucket)} required aria-describedby={describedBy}
                        onChange={(event) => form.set("bucket", event.currentTarget.value)}>
                  <option value="">{buckets.loading ? "Loading…" : "Choose a bucket"}</option>
                  {(buckets.data ?? []).map((bucket) => (
                    <option value={bucket.name}>{bucket.name}</option>
                  ))}
                </select>
              )}
            </Field>
            <TextInput form={form} name="max-cache-size" label="Maximum cache size (bytes)" hint="Empty: the default bound." />
            <CheckBox form={form} name="reuse-datastore" label="Reuse the datastore in the bucket"
                      hint="Attach to a datastore that is already in the bucket instead of creating a new one." />
            <CheckBox form={form} name="overwrite-in-use" label="Take over a bucket in use"
                      hint="Only if the server that used it is gone for good: two servers writing one datastore lose data." />
          </>
        )}
        <div class="span">
          <FormButtons form={form} fields={kFields} submit="Create" busy="Creating…" onClose={onClose} />
        </div>
      </form>
    </Dialog>
  );
}
