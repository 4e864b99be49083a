// The datastores: name, backend, usage, maintenance; each opens its own page.
import { useApi } from "../components/use_api";
import { ErrorMessage, Loading, Table } from "../components/ui";
import { UsageBar } from "../components/usage_bar";
import { href } from "../router";
import { DatastoreUsage } from "../types";

export function DatastoreList() {
  const usage = useApi<DatastoreUsage[]>("/status/datastore-usage", {}, 10_000);
  return (
    <>
      <h1>Datastores</h1>
      <ErrorMessage error={usage.error} />
      {!usage.data && !usage.error && <Loading what="datastores" />}
      {usage.data && (
        <Table
          caption="Datastores"
          rows={usage.data}
          rowKey={(store) => store.store}
          empty="No datastore yet."
          columns={[
            { title: "Name", render: (store) => <a href={href("datastore", store.store)}>{store.store}</a> },
            { title: "Backend", render: (store) => (store["backend-type"] === "s3" ? "S3" : "Filesystem") },
            {
              title: "Usage",
              render: (store) =>
                store.error ? <span class="error-text">{store.error}</span> : <UsageBar used={store.used} total={store.total} />,
            },
            { title: "Maintenance", render: (store) => store["maintenance-mode"] ?? <span class="muted">none</span> },
          ]}
        />
      )}
    </>
  );
}
