// All tasks, newest first, with filters and paging.
import { useEffect, useState } from "preact/hooks";
import { ApiError, callFull } from "../api";
import { ErrorMessage, Field } from "../components/ui";
import { TaskTable } from "../components/task_table";
import { Task } from "../types";

const kPage = 50;

export function TaskList() {
  const [running, setRunning] = useState(false);
  const [errors, setErrors] = useState(false);
  const [type, setType] = useState("");
  const [store, setStore] = useState("");
  const [start, setStart] = useState(0);
  const [tasks, setTasks] = useState<Task[] | undefined>(undefined);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const load = () =>
      callFull<Task[]>("GET", "/nodes/localhost/tasks", {
        start,
        limit: kPage,
        running,
        errors,
        typefilter: type,
        store,
      })
        .then((envelope) => {
          if (!live) return;
          setTasks(envelope.data);
          setTotal(envelope.total ?? envelope.data.length);
          setError(undefined);
        })
        .catch((failure: ApiError) => live && setError(failure));
    load();
    const timer = setInterval(load, 5000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [running, errors, type, store, start]);
  const filter = (set: () => void) => {
    set();
    setStart(0);
  };
  return (
    <>
      <h1>Tasks</h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()} aria-label="Filters">
        <Field label="Type contains">
          {(id) => (
            <input id={id} value={type} onInput={(e) => filter(() => setType(e.currentTarget.value))} />
          )}
        </Field>
        <Field label="Datastore">
          {(id) => (
            <input id={id} value={store} onInput={(e) => filter(() => setStore(e.currentTarget.value))} />
          )}
        </Field>
        <label class="check">
          <input type="checkbox" checked={running} onChange={(e) => filter(() => setRunning(e.currentTarget.checked))} />
          Running only
        </label>
        <label class="check">
          <input type="checkbox" checked={errors} onChange={(e) => filter(() => setErrors(e.currentTarget.checked))} />
          Failed only
        </label>
      </form>
      <ErrorMessage error={error} />
      <TaskTable tasks={tasks} caption="Tasks" empty="No task matches." />
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={start === 0} onClick={() => setStart(Math.max(0, start - kPage))}>
          Newer
        </button>
        <span>
          {total === 0 ? 0 : start + 1}–{Math.min(start + kPage, total)} of {total}
        </span>
        <button type="button" class="secondary" disabled={start + kPage >= total} onClick={() => setStart(start + kPage)}>
          Older
        </button>
      </nav>
    </>
  );
}
