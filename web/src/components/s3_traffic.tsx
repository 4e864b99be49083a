// What S3 datastores asked of their buckets since the server started, by request kind (what
// providers bill), with the bytes each way.
import { ApiError } from "../api";
import { formatBytes } from "../format";
import { DatastoreStatus, S3Statistics } from "../types";
import { Table } from "./ui";

const kKinds = ["get", "put", "head", "list", "delete", "copy"];

export function S3Traffic({ statuses }: { statuses: Record<string, DatastoreStatus | ApiError> }) {
  const rows = Object.entries(statuses)
    .filter((entry): entry is [string, DatastoreStatus & { "s3-statistics": S3Statistics }] =>
      !(entry[1] instanceof ApiError) && entry[1]["s3-statistics"] !== undefined)
    .map(([store, status]) => ({ store, stats: status["s3-statistics"] }));
  if (rows.length === 0) return null;
  return (
    <section aria-labelledby="s3-traffic-title">
      <h2 id="s3-traffic-title">S3 requests since the server started</h2>
      <Table
        caption="S3 requests by datastore"
        rows={rows}
        rowKey={(row) => row.store}
        columns={[
          { title: "Datastore", render: (row) => row.store },
          ...kKinds.map((kind) => ({
            title: kind.toUpperCase(),
            align: "right" as const,
            render: (row: { stats: S3Statistics }) => (row.stats.requests[kind] ?? 0).toLocaleString("en"),
          })),
          { title: "Uploaded", align: "right", render: (row) => formatBytes(row.stats["bytes-out"]) },
          { title: "Downloaded", align: "right", render: (row) => formatBytes(row.stats["bytes-in"]) },
          { title: "Retries / failures", align: "right", render: (row) => `${row.stats.retries} / ${row.stats.failures}` },
        ]}
      />
    </section>
  );
}
