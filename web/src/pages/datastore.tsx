// One datastore: its summary (usage, contents, last GC) with GC and verify buttons that open
// the task they start, and its content.
import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { useApi } from "../components/use_api";
import { ErrorMessage, Loading } from "../components/ui";
import { UsageBar } from "../components/usage_bar";
import { formatBytes, formatDuration, formatTime } from "../format";
import { href, navigate } from "../router";
import { DatastoreStatus } from "../types";
import { ContentView } from "./content";
import { DatastoreOptions } from "./datastore_options";

const kTabs = [
  { tab: "summary", title: "Summary" },
  { tab: "content", title: "Content" },
];

export function DatastorePage({ store, tab }: { store: string; tab: string }) {
  return (
    <>
      <p class="breadcrumb">
        <a href={href("datastores")}>Datastores</a>
      </p>
      <h1>Datastore {store}</h1>
      <nav class="tabs" aria-label="Datastore views">
        {kTabs.map((item) => (
          <a href={href("datastore", store, item.tab)} aria-current={tab === item.tab ? "page" : undefined}>
            {item.title}
          </a>
        ))}
      </nav>
      {tab === "content" ? <ContentView store={store} /> : <Summary store={store} />}
    </>
  );
}

function Summary({ store }: { store: string }) {
  const path = `/admin/datastore/${encodeURIComponent(store)}`;
  const status = useApi<DatastoreStatus>(`${path}/status`, { verbose: true }, 10_000);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [starting, setStarting] = useState(false);
  const start = async (what: "gc" | "verify") => {
    setStarting(true);
    setError(undefined);
    try {
      navigate("tasks", await call<string>("POST", `${path}/${what}`));
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setStarting(false);
    }
  };
  const data = status.data;
  const gc = data?.["gc-status"];
  const counts = Object.entries(data?.counts ?? {});
  return (
    <>
      <div class="actions">
        <button type="button" disabled={starting} onClick={() => start("gc")}>
          Start garbage collection
        </button>
        <button type="button" class="secondary" disabled={starting} onClick={() => start("verify")}>
          Verify all
        </button>
      </div>
      <ErrorMessage error={error ?? status.error} />
      {!data && !status.error && <Loading what="the datastore's status" />}
      {data && (
        <div class="cards">
          <section class="card" aria-labelledby="usage-title">
            <h2 id="usage-title">{data["backend-type"] === "s3" ? "Local cache disk" : "Usage"}</h2>
            <UsageBar used={data.used} total={data.total} />
            <p>
              {data["backend-type"] === "s3"
                ? "Backend: S3. The bucket's size is not known here; the disk holds the local cache."
                : "Backend: filesystem."}
            </p>
          </section>
          <section class="card" aria-labelledby="counts-title">
            <h2 id="counts-title">Contents</h2>
            {counts.length === 0 ? (
              <p class="muted">No backups yet.</p>
            ) : (
              <dl class="facts">
                {counts.map(([type, count]) => (
                  <>
                    <dt>{type}</dt>
                    <dd>
                      {count.groups} groups, {count.snapshots} snapshots
                    </dd>
                  </>
                ))}
              </dl>
            )}
          </section>
          <section class="card" aria-labelledby="gc-title">
            <h2 id="gc-title">Last garbage collection</h2>
            {!gc?.started ? (
              <p class="muted">None yet.</p>
            ) : (
              <dl class="facts">
                <dt>Started</dt>
                <dd>{formatTime(gc.started)}</dd>
                <dt>Duration</dt>
                <dd>{formatDuration(gc.duration)}</dd>
                <dt>Deduplication</dt>
                <dd>{gc["dedup-factor"] ? `${gc["dedup-factor"].toFixed(2)}×` : "–"}</dd>
                <dt>Referenced</dt>
                <dd>{formatBytes(gc["index-data-bytes"])}</dd>
                <dt>Stored</dt>
                <dd>
                  {formatBytes(gc["disk-bytes"])} in {gc["disk-chunks"] ?? 0} chunks
                </dd>
                <dt>Removed</dt>
                <dd>
                  {formatBytes(gc["removed-bytes"])} ({gc["removed-chunks"] ?? 0} chunks)
                </dd>
                <dt>Pending</dt>
                <dd>{formatBytes(gc["pending-bytes"])}</dd>
              </dl>
            )}
          </section>
          <DatastoreOptions store={store} />
        </div>
      )}
    </>
  );
}
