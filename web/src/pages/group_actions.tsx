// A backup group's actions: prune by keep rules with a dry-run preview of what each snapshot
// would become, and a change of owner.
import { useState } from "preact/hooks";
import { call, Params } from "../api";
import { FormButtons, optionalNumber, TextInput, useForm } from "../components/form";
import { Dialog, Table } from "../components/ui";
import { formatTime } from "../format";
import { BackupGroup } from "../types";

interface PruneDecision {
  "backup-time": number;
  keep: boolean;
  protected?: boolean;
}

const kKeep = ["keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"];
const kKeepLabels: Record<string, string> = {
  "keep-last": "Keep last",
  "keep-hourly": "Keep hourly",
  "keep-daily": "Keep daily",
  "keep-weekly": "Keep weekly",
  "keep-monthly": "Keep monthly",
  "keep-yearly": "Keep yearly",
};

interface Props {
  store: string;
  groupParams: Params;  // ns, backup-type, backup-id
  group: BackupGroup;
  onClose: () => void;
  onDone: () => void;
}

export function PruneDialog({ store, groupParams, group, onClose, onDone }: Props) {
  const form = useForm(Object.fromEntries(kKeep.map((key) => [key, ""])));
  const [preview, setPreview] = useState<PruneDecision[] | null>(null);
  const path = `/admin/datastore/${encodeURIComponent(store)}/prune`;
  const rules = (): Params => Object.fromEntries(kKeep.map((key) => [key, optionalNumber(form.values[key])]));
  const run = (dryRun: boolean) =>
    form.submit(async () => {
      const decisions = await call<PruneDecision[]>("POST", path, { ...groupParams, ...rules(), "dry-run": dryRun });
      if (dryRun) {
        setPreview(decisions.sort((a, b) => b["backup-time"] - a["backup-time"]));
      } else {
        onDone();
      }
    });
  const removed = preview?.filter((decision) => !decision.keep).length ?? 0;
  return (
    <Dialog title={`Prune ${group["backup-type"]}/${group["backup-id"]}`} onClose={onClose} wide>
      <form
        class="grid-form"
        onSubmit={(event) => {
          event.preventDefault();
          run(true);
        }}
        onInput={() => setPreview(null)}
      >
        {kKeep.map((key) => (
          <TextInput form={form} name={key} label={kKeepLabels[key]} hint={key === "keep-last" ? "Empty: not used. With no rule at all, everything is kept." : undefined} />
        ))}
        <div class="span">
          <FormButtons form={form} fields={kKeep} submit="Preview" onClose={onClose} />
        </div>
      </form>
      {preview && (
        <section aria-labelledby="preview-title">
          <h3 id="preview-title">
            Preview: {preview.length - removed} kept, {removed} removed
          </h3>
          <div class="virtual" style={{ maxHeight: "320px" }} tabIndex={0} role="region" aria-label="Prune preview">
            <Table
              caption="Prune preview"
              rows={preview}
              rowKey={(row) => String(row["backup-time"])}
              columns={[
                { title: "Backup time", render: (row) => formatTime(row["backup-time"]) },
                {
                  title: "Decision",
                  render: (row) =>
                    row.keep ? (
                      <span class="badge ok">{row.protected ? "keep (protected)" : "keep"}</span>
                    ) : (
                      <span class="badge error">remove</span>
                    ),
                },
              ]}
            />
          </div>
          <div class="actions">
            <button type="button" class="danger" disabled={form.busy || removed === 0} onClick={() => run(false)}>
              Remove {removed} snapshot{removed === 1 ? "" : "s"}
            </button>
          </div>
        </section>
      )}
    </Dialog>
  );
}

export function ChangeOwnerDialog({ store, groupParams, group, onClose, onDone }: Props) {
  const form = useForm({ "new-owner": group.owner ?? "" });
  const save = () =>
    form.submit(async () => {
      await call("POST", `/admin/datastore/${encodeURIComponent(store)}/change-owner`, {
        ...groupParams,
        "new-owner": String(form.values["new-owner"]),
      });
      onDone();
    });
  return (
    <Dialog title={`Owner of ${group["backup-type"]}/${group["backup-id"]}`} onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        <TextInput form={form} name="new-owner" label="New owner" required hint="A user or an API token: alice@pbs or alice@pbs!backup." />
        <FormButtons form={form} fields={["new-owner"]} submit="Change owner" onClose={onClose} />
      </form>
    </Dialog>
  );
}
