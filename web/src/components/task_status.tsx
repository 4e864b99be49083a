// A task's result as a badge: running, OK, WARNINGS: n, or the error.
export function TaskResult({ status }: { status: string | undefined }) {
  if (!status) return <span class="badge running">running</span>;
  if (status === "OK") return <span class="badge ok">OK</span>;
  if (status.startsWith("WARNINGS")) return <span class="badge warning">{status}</span>;
  return <span class="badge error">{status}</span>;
}

// What a worker type means to a person.
export function taskTitle(type: string, id?: string): string {
  const names: Record<string, string> = {
    garbage_collection: "Garbage collection",
    verify: "Verify",
    verificationjob: "Verify job",
    prune: "Prune",
    prunejob: "Prune job",
    backup: "Backup",
    reader: "Restore",
    "s3-refresh": "Refresh from bucket",
    sync: "Sync",
  };
  const name = names[type] ?? type;
  return id ? `${name} ${id}` : name;
}
