// Tasks as a table: start, what, who, result; each links to its log.
import { Loading, Table } from "./ui";
import { TaskResult, taskTitle } from "./task_status";
import { formatDuration, formatTime } from "../format";
import { href } from "../router";
import { Task } from "../types";

export function TaskTable({ tasks, caption, empty }: { tasks?: Task[]; caption: string; empty: string }) {
  if (!tasks) return <Loading what="tasks" />;
  return (
    <Table
      caption={caption}
      rows={tasks}
      rowKey={(task) => task.upid}
      empty={empty}
      columns={[
        { title: "Started", render: (task) => formatTime(task.starttime) },
        {
          title: "Task",
          render: (task) => <a href={href("tasks", task.upid)}>{taskTitle(task.worker_type, task.worker_id)}</a>,
        },
        { title: "User", render: (task) => task.user },
        {
          title: "Duration",
          align: "right",
          render: (task) => formatDuration((task.endtime ?? Date.now() / 1000) - task.starttime),
        },
        { title: "Result", render: (task) => <TaskResult status={task.status} /> },
      ]}
    />
  );
}
