// One task: its status and its log, followed while the task runs; a running task can be
// stopped.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, callFull } from "../api";
import { ErrorMessage } from "../components/ui";
import { TaskResult, taskTitle } from "../components/task_status";
import { formatTime, parseUpid } from "../format";
import { href } from "../router";
import { LogLine, TaskStatus } from "../types";

const kPollMs = 1000;
const kLinesPerCall = 1000;

export function TaskView({ upid }: { upid: string }) {
  const [status, setStatus] = useState<TaskStatus | undefined>(undefined);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [stopping, setStopping] = useState(false);
  const logRef = useRef<HTMLPreElement>(null);
  const path = `/nodes/localhost/tasks/${encodeURIComponent(upid)}`;
  const parsed = parseUpid(upid);

  useEffect(() => {
    let live = true;
    let next = 1;  // the number of the next line to read (PBS's "start" counts from 1)
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLines([]);
    const poll = async () => {
      try {
        const current = await call<TaskStatus>("GET", `${path}/status`);
        // Read the log after the status: a stopped task's log is complete then.
        for (;;) {
          const page = await callFull<LogLine[]>("GET", `${path}/log`, { start: next, limit: kLinesPerCall });
          if (!live) return;
          if (page.data.length > 0) {
            next = page.data[page.data.length - 1].n + 1;
            setLines((old) => old.concat(page.data));
          }
          if (page.data.length < kLinesPerCall) break;
        }
        setStatus(current);
        setError(undefined);
        if (current.status === "running") timer = setTimeout(poll, kPollMs);
      } catch (failure) {
        if (!live) return;
        setError(failure as ApiError);
        timer = setTimeout(poll, kPollMs * 5);
      }
    };
    poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [upid]);

  // Follow the end of the log unless the reader scrolled up.
  useEffect(() => {
    const log = logRef.current;
    if (log && log.scrollHeight - log.scrollTop - log.clientHeight < 80) log.scrollTop = log.scrollHeight;
  }, [lines]);

  const stop = async () => {
    setStopping(true);
    try {
      await call("DELETE", path);
    } catch (failure) {
      setError(failure as ApiError);
    }
  };
  const running = status?.status === "running";
  return (
    <>
      <p class="breadcrumb">
        <a href={href("tasks")}>Tasks</a>
      </p>
      <h1>{parsed ? taskTitle(parsed.type, parsed.id) : "Task"}</h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd aria-live="polite" data-testid="task-status">
          {status ? <TaskResult status={running ? undefined : status.exitstatus} /> : "…"}
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(parsed?.starttime)}</dd>
        <dt>User</dt>
        <dd>{parsed?.user ?? "–"}</dd>
        <dt>Task id</dt>
        <dd class="mono small">{upid}</dd>
      </dl>
      <div class="actions">
        {running && (
          <button type="button" class="danger" disabled={stopping} onClick={stop}>
            {stopping ? "Stopping…" : "Stop"}
          </button>
        )}
        <a class="button secondary" href={`/api2/json${path}/log?download=1`} download>
          Download log
        </a>
      </div>
      <ErrorMessage error={error} />
      <pre class="log" ref={logRef} tabIndex={0} aria-label="Task log" data-testid="task-log">
        {lines.map((line) => line.t).join("\n")}
      </pre>
    </>
  );
}
