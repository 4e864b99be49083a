// The dashboard: every datastore's usage, deduplication and last GC and verify, and the tasks
// that run or failed.
import { ApiError, call } from "../api";
import { useEffect, useState } from "preact/hooks";
import { useApi } from "../components/use_api";
import { ErrorMessage, Loading, Table } from "../components/ui";
import { TaskResult } from "../components/task_status";
import { S3Traffic } from "../components/s3_traffic";
import { TaskTable } from "../components/task_table";
import { UsageBar } from "../components/usage_bar";
import { formatBytes, formatTime } from "../format";
import { href } from "../router";
import { DatastoreStatus, DatastoreUsage, Task } from "../types";

const kRefreshMs = 10_000;
const kMonth = 30 * 24 * 3600;

function lastOf(tasks: Task[], store: string, types: string[]): Task | undefined {
  return tasks.find(
    (task) =>
      types.includes(task.worker_type) &&
      task.worker_id !== undefined &&
      (task.worker_id === store || task.worker_id.startsWith(`${store}:`)),
  );
}

function LastRun({ task }: { task: Task | undefined }) {
  if (!task) return <span class="muted">never</span>;
  return (
    <a href={href("tasks", task.upid)}>
      <TaskResult status={task.status} /> {formatTime(task.starttime)}
    </a>
  );
}

// The status of each store (gc-status holds the dedup factor, s3-statistics the requests),
// fetched again whenever the usage list is; a store that fails shows why.
function useStatuses(stores: DatastoreUsage[] | undefined) {
  const [statuses, setStatuses] = useState<Record<string, DatastoreStatus | ApiError>>({});
  useEffect(() => {
    let live = true;
    for (const { store } of stores ?? []) {
      call<DatastoreStatus>("GET", `/admin/datastore/${encodeURIComponent(store)}/status`, { verbose: true })
        .then((status) => live && setStatuses((old) => ({ ...old, [store]: status })))
        .catch((error: ApiError) => live && setStatuses((old) => ({ ...old, [store]: error })));
    }
    return () => {
      live = false;
    };
  }, [stores]);
  return statuses;
}

export function Dashboard() {
  const usage = useApi<DatastoreUsage[]>("/status/datastore-usage", {}, kRefreshMs);
  const since = Math.floor(Date.now() / 1000) - kMonth;
  const recent = useApi<Task[]>("/nodes/localhost/tasks", { limit: 500, since }, kRefreshMs);
  const running = useApi<Task[]>("/nodes/localhost/tasks", { running: true, limit: 20 }, kRefreshMs);
  const failed = useApi<Task[]>("/nodes/localhost/tasks", { errors: true, limit: 10, since }, kRefreshMs);
  const statuses = useStatuses(usage.data);
  const tasks = recent.data ?? [];
  return (
    <>
      <h1>Dashboard</h1>
      <section aria-labelledby="stores-title">
        <h2 id="stores-title">Datastores</h2>
        <ErrorMessage error={usage.error} />
        {!usage.data && !usage.error && <Loading what="datastores" />}
        {usage.data && (
          <Table
            caption="Datastores"
            rows={usage.data}
            rowKey={(store) => store.store}
            empty="No datastore yet: create one under Datastores."
            columns={[
              {
                title: "Name",
                render: (store) => <a href={href("datastore", store.store)}>{store.store}</a>,
              },
              { title: "Type", render: (store) => store["backend-type"] },
              {
                title: "Usage",
                render: (store) =>
                  store.error ? <span class="error-text">{store.error}</span> : <UsageBar used={store.used} total={store.total} />,
              },
              {
                title: "Deduplication",
                align: "right",
                render: (store) => {
                  const status = statuses[store.store];
                  if (status instanceof ApiError) return <span class="error-text">{status.message}</span>;
                  const gc = status?.["gc-status"];
                  if (!gc?.["dedup-factor"]) return <span class="muted">after the first GC</span>;
                  return (
                    <span title={`${formatBytes(gc["index-data-bytes"])} referenced, ${formatBytes(gc["disk-bytes"])} stored`}>
                      {gc["dedup-factor"].toFixed(2)}×
                    </span>
                  );
                },
              },
              {
                title: "Last GC",
                render: (store) => <LastRun task={lastOf(tasks, store.store, ["garbage_collection"])} />,
              },
              {
                title: "Last verify",
                render: (store) => (
                  <LastRun task={lastOf(tasks, store.store, ["verify", "verificationjob"])} />
                ),
              },
            ]}
          />
        )}
      </section>
      <S3Traffic statuses={statuses} />
      <div class="columns">
        <section aria-labelledby="running-title">
          <h2 id="running-title">Running tasks</h2>
          <ErrorMessage error={running.error} />
          <TaskTable tasks={running.data} caption="Running tasks" empty="No task is running." />
        </section>
        <section aria-labelledby="failed-title">
          <h2 id="failed-title">Failed tasks (30 days)</h2>
          <ErrorMessage error={failed.error} />
          <TaskTable tasks={failed.data} caption="Failed tasks" empty="No task failed." />
        </section>
      </div>
    </>
  );
}
