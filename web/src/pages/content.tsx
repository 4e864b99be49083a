// A datastore's content: namespace, groups, and the snapshots of the chosen group with their
// actions (notes, protection, verify, forget). Actions the user may not take are not offered;
// the API refuses them anyway.
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, Params } from "../api";
import { useApi } from "../components/use_api";
import { Confirm, Dialog, ErrorMessage, Field, Loading, Table } from "../components/ui";
import { VirtualTable } from "../components/virtual_table";
import { formatBytes, formatTime } from "../format";
import { navigate } from "../router";
import { BackupGroup, Namespace, Snapshot } from "../types";
import { FileBrowser } from "./file_browser";
import { ChangeOwnerDialog, PruneDialog } from "./group_actions";

type Privileges = Record<string, boolean>;

function usePrivileges(store: string, ns: string): Privileges {
  const path = `/datastore/${store}${ns ? `/${ns}` : ""}`;
  const permissions = useApi<Record<string, Privileges>>("/access/permissions", { path });
  return permissions.data?.[path] ?? {};
}

function snapshotName(snapshot: Snapshot): string {
  return `${snapshot["backup-type"]}/${snapshot["backup-id"]}/${new Date(snapshot["backup-time"] * 1000).toISOString().replace(".000Z", "Z")}`;
}

function encryption(snapshot: Snapshot): string {
  const modes = new Set(snapshot.files.map((file) => file["crypt-mode"] ?? "none"));
  if (modes.has("encrypt")) return "encrypted";
  if (modes.has("sign-only")) return "signed";
  return "none";
}

export function ContentView({ store }: { store: string }) {
  const [ns, setNs] = useState("");
  const [group, setGroup] = useState<BackupGroup | null>(null);
  const base = `/admin/datastore/${encodeURIComponent(store)}`;
  const namespaces = useApi<Namespace[]>(`${base}/namespace`);
  const groups = useApi<BackupGroup[]>(`${base}/groups`, { ns });
  useEffect(() => setGroup(null), [ns]);
  return (
    <>
      <div class="filters">
        <span class="inline">
          <label for="content-namespace">Namespace</label>
          <select id="content-namespace" value={ns} onChange={(event) => setNs(event.currentTarget.value)}>
            {(namespaces.data ?? [{ ns: "" }]).map((item) => (
              <option value={item.ns}>{item.ns || "(root)"}</option>
            ))}
          </select>
        </span>
      </div>
      <h2 id="groups-title">Backup groups</h2>
      <ErrorMessage error={namespaces.error ?? groups.error} />
      {!groups.data && !groups.error && <Loading what="backup groups" />}
      {groups.data && (
        <Table
          caption="Backup groups"
          rows={groups.data}
          rowKey={(row) => `${row["backup-type"]}/${row["backup-id"]}`}
          empty="No backups in this namespace."
          columns={[
            {
              title: "Group",
              render: (row) => (
                <button
                  type="button"
                  class="link"
                  aria-pressed={group?.["backup-id"] === row["backup-id"] && group?.["backup-type"] === row["backup-type"]}
                  onClick={() => setGroup(row)}
                >
                  {row["backup-type"]}/{row["backup-id"]}
                </button>
              ),
            },
            { title: "Snapshots", align: "right", render: (row) => row["backup-count"] },
            { title: "Last backup", render: (row) => formatTime(row["last-backup"]) },
            { title: "Owner", render: (row) => row.owner ?? "–" },
          ]}
        />
      )}
      {group && <Snapshots store={store} ns={ns} group={group} onChanged={groups.reload} />}
    </>
  );
}

interface SnapshotsProps {
  store: string;
  ns: string;
  group: BackupGroup;
  onChanged: () => void;  // the group list (counts, owner) is out of date
}

function Snapshots({ store, ns, group, onChanged }: SnapshotsProps) {
  const base = `/admin/datastore/${encodeURIComponent(store)}`;
  const groupParams: Params = { ns, "backup-type": group["backup-type"], "backup-id": group["backup-id"] };
  const snapshots = useApi<Snapshot[]>(`${base}/snapshots`, groupParams);
  const privileges = usePrivileges(store, ns);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [editing, setEditing] = useState<Snapshot | null>(null);
  const [forgetting, setForgetting] = useState<Snapshot | null>(null);
  const [browsing, setBrowsing] = useState<Snapshot | null>(null);
  const [groupAction, setGroupAction] = useState<"prune" | "owner" | null>(null);
  const mayModify = privileges["Datastore.Modify"] || privileges["Datastore.Backup"];
  const mayForget = privileges["Datastore.Modify"] || privileges["Datastore.Prune"];
  const mayVerify = privileges["Datastore.Verify"] || privileges["Datastore.Backup"];
  const mayRead = privileges["Datastore.Read"] || privileges["Datastore.Backup"];
  const mayPrune = privileges["Datastore.Modify"] || privileges["Datastore.Prune"];
  const params = (snapshot: Snapshot): Params => ({ ...groupParams, "backup-time": snapshot["backup-time"] });
  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      snapshots.reload();
    } catch (failure) {
      setError(failure as ApiError);
    }
  };
  const rows = [...(snapshots.data ?? [])].sort((a, b) => b["backup-time"] - a["backup-time"]);
  return (
    <section aria-labelledby="snapshots-title">
      <h2 id="snapshots-title">
        Snapshots of {group["backup-type"]}/{group["backup-id"]}
      </h2>
      <div class="actions">
        {mayPrune && (
          <button type="button" class="secondary" onClick={() => setGroupAction("prune")}>
            Prune group
          </button>
        )}
        {mayModify && (
          <button type="button" class="secondary" onClick={() => setGroupAction("owner")}>
            Change owner
          </button>
        )}
      </div>
      <ErrorMessage error={error ?? snapshots.error} />
      {!snapshots.data && !snapshots.error && <Loading what="snapshots" />}
      {snapshots.data && (
        <VirtualTable
          caption={`Snapshots of ${group["backup-type"]}/${group["backup-id"]}`}
          rows={rows}
          rowKey={(row) => String(row["backup-time"])}
          columns={[
            { title: "Backup time", render: (row) => formatTime(row["backup-time"]) },
            { title: "Size", align: "right", render: (row) => formatBytes(row.size) },
            { title: "Encryption", render: encryption },
            {
              title: "Verified",
              render: (row) =>
                row.verification ? (
                  <span class={`badge ${row.verification.state === "ok" ? "ok" : "error"}`}>{row.verification.state}</span>
                ) : (
                  <span class="muted">not yet</span>
                ),
            },
            { title: "Notes", render: (row) => <span class="notes">{row.comment ?? ""}</span> },
            {
              title: "Actions",
              render: (row) => (
                <span class="row-actions">
                  {mayRead && row.files.some((file) => /\.m?pxar\.didx$/.test(file.filename)) && (
                    <button type="button" class="small secondary" aria-label={`Browse the files of ${snapshotName(row)}`}
                            onClick={() => setBrowsing(row)}>
                      Files
                    </button>
                  )}
                  {mayModify && (
                    <>
                      <button type="button" class="small secondary" onClick={() => setEditing(row)}
                              aria-label={`Edit notes of ${snapshotName(row)}`}>
                        Notes
                      </button>
                      <button
                        type="button"
                        class="small secondary"
                        aria-pressed={!!row.protected}
                        aria-label={`${row.protected ? "Unprotect" : "Protect"} ${snapshotName(row)}`}
                        onClick={() => act(() => call("PUT", `${base}/protected`, { ...params(row), protected: !row.protected }))}
                      >
                        {row.protected ? "Protected" : "Protect"}
                      </button>
                    </>
                  )}
                  {mayVerify && (
                    <button type="button" class="small secondary" aria-label={`Verify ${snapshotName(row)}`}
                            onClick={() => act(async () => navigate("tasks", await call<string>("POST", `${base}/verify`, params(row))))}>
                      Verify
                    </button>
                  )}
                  {mayForget && !row.protected && (
                    <button type="button" class="small danger" aria-label={`Forget ${snapshotName(row)}`}
                            onClick={() => setForgetting(row)}>
                      Forget
                    </button>
                  )}
                </span>
              ),
            },
          ]}
        />
      )}
      {editing && (
        <NotesDialog
          snapshot={editing}
          load={() => call<string>("GET", `${base}/notes`, params(editing))}
          onClose={() => setEditing(null)}
          onSave={(notes) =>
            call("PUT", `${base}/notes`, { ...params(editing), notes }).then(() => {
              setEditing(null);
              snapshots.reload();
            })
          }
        />
      )}
      {groupAction === "prune" && (
        <PruneDialog store={store} groupParams={groupParams} group={group} onClose={() => setGroupAction(null)}
                     onDone={() => { setGroupAction(null); snapshots.reload(); onChanged(); }} />
      )}
      {groupAction === "owner" && (
        <ChangeOwnerDialog store={store} groupParams={groupParams} group={group} onClose={() => setGroupAction(null)}
                           onDone={() => { setGroupAction(null); onChanged(); }} />
      )}
      {browsing && (
        <FileBrowser store={store} snapshot={params(browsing)} title={snapshotName(browsing)} onClose={() => setBrowsing(null)} />
      )}
      {forgetting && (
        <Confirm
          title="Forget snapshot"
          action="Forget"
          onClose={() => setForgetting(null)}
          onConfirm={() => act(() => call("DELETE", `${base}/snapshots`, params(forgetting)))}
        >
          <p>
            Remove snapshot <strong>{snapshotName(forgetting)}</strong>? Its index files go now; chunks no other
            snapshot uses are freed by the next garbage collection.
          </p>
        </Confirm>
      )}
    </section>
  );
}

interface NotesProps {
  snapshot: Snapshot;
  load: () => Promise<string>;
  onClose: () => void;
  onSave: (notes: string) => Promise<void>;
}

// The list shows the first line of the notes; the dialog edits all of them.
function NotesDialog({ snapshot, load, onClose, onSave }: NotesProps) {
  const [notes, setNotes] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    load()
      .then((text) => setNotes(text ?? ""))
      .catch((failure) => setError(failure as ApiError));
  }, []);
  return (
    <Dialog title={`Notes of ${snapshotName(snapshot)}`} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (notes !== undefined) onSave(notes).catch((failure) => setError(failure as ApiError));
        }}
      >
        <ErrorMessage error={error && !error.errors.notes ? error : undefined} />
        <Field label="Notes" error={error?.errors.notes}>
          {(id, describedBy) => (
            <textarea id={id} rows={6} value={notes ?? ""} disabled={notes === undefined} aria-describedby={describedBy}
                      onInput={(event) => setNotes(event.currentTarget.value)} />
          )}
        </Field>
        <div class="actions">
          <button type="submit">Save</button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
