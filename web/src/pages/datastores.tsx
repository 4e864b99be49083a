// The datastores: name, backend, usage, maintenance; each opens its own page. New ones are
// created here.
import { useState } from "preact/hooks";
import { useApi } from "../components/use_api";
import { ErrorMessage, Loading, Table } from "../components/ui";
import { UsageBar } from "../components/usage_bar";
import { parseProperties } from "../format";
import { href } from "../router";
import { DatastoreUsage } from "../types";
import { CreateDatastoreDialog } from "./datastore_create";

interface DatastoreItem {
  store: string;
  "backend-type": string;
  maintenance?: string;
}

export function DatastoreList() {
  const list = useApi<DatastoreItem[]>("/admin/datastore", {}, 10_000);
  const usage = useApi<DatastoreUsage[]>("/status/datastore-usage", {}, 10_000);
  const [creating, setCreating] = useState(false);
  const usageOf = (store: string) => usage.data?.find((item) => item.store === store);
  return (
    <>
      <h1>Datastores</h1>
      <div class="actions">
        <button type="button" onClick={() => setCreating(true)}>
          Create datastore
        </button>
      </div>
      <ErrorMessage error={list.error ?? usage.error} />
      {!list.data && !list.error && <Loading what="datastores" />}
      {list.data && (
        <Table
          caption="Datastores"
          rows={list.data}
          rowKey={(store) => store.store}
          empty="No datastore yet."
          columns={[
            { title: "Name", render: (store) => <a href={href("datastore", store.store)}>{store.store}</a> },
            { title: "Backend", render: (store) => (store["backend-type"] === "s3" ? "S3" : "Filesystem") },
            {
              title: "Usage",
              render: (store) => {
                const used = usageOf(store.store);
                if (used?.error) return <span class="error-text">{used.error}</span>;
                return <UsageBar used={used?.used} total={used?.total} />;
              },
            },
            {
              title: "Maintenance",
              render: (store) =>
                store.maintenance ? (
                  <span class="badge warning">{parseProperties(store.maintenance).type}</span>
                ) : (
                  <span class="muted">none</span>
                ),
            },
          ]}
        />
      )}
      {creating && <CreateDatastoreDialog onClose={() => setCreating(false)} />}
    </>
  );
}
