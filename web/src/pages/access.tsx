// Access control: users, their API tokens (the secret shown once, with a copy button), the ACL
// with roles and propagation, and the effective permissions of a user or token.
import { useState } from "preact/hooks";
import { ApiError, call } from "../api";
import { CheckBox, FormButtons, Select, TextInput, useForm } from "../components/form";
import { useApi } from "../components/use_api";
import { Confirm, Dialog, ErrorMessage, Field, Loading, Table } from "../components/ui";
import { formatTime } from "../format";
import { href } from "../router";
import { AclEntry, ApiToken, Role, User } from "../types";

const kTabs = [
  { tab: "users", title: "Users" },
  { tab: "tokens", title: "API tokens" },
  { tab: "acl", title: "Permissions" },
  { tab: "effective", title: "Effective permissions" },
];

export function AccessPage({ tab }: { tab: string }) {
  return (
    <>
      <h1>Access control</h1>
      <nav class="tabs" aria-label="Access views">
        {kTabs.map((item) => (
          <a href={href("access", item.tab)} aria-current={tab === item.tab ? "page" : undefined}>
            {item.title}
          </a>
        ))}
      </nav>
      {tab === "tokens" ? <Tokens /> : tab === "acl" ? <Acl /> : tab === "effective" ? <Effective /> : <Users />}
    </>
  );
}

function Users() {
  const users = useApi<User[]>("/access/users");
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [password, setPassword] = useState<User | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  return (
    <>
      <div class="actions">
        <button type="button" onClick={() => setEditing("new")}>
          Add user
        </button>
      </div>
      <ErrorMessage error={error ?? users.error} />
      {!users.data && !users.error && <Loading what="users" />}
      {users.data && (
        <Table
          caption="Users"
          rows={users.data}
          rowKey={(row) => row.userid}
          columns={[
            { title: "User", render: (row) => row.userid },
            { title: "Name", render: (row) => [row.firstname, row.lastname].filter(Boolean).join(" ") || "–" },
            { title: "Enabled", render: (row) => (row.enable === false ? "no" : "yes") },
            { title: "Expires", render: (row) => (row.expire ? formatTime(row.expire) : "never") },
            { title: "Comment", render: (row) => row.comment ?? "" },
            {
              title: "Actions",
              render: (row) => (
                <span class="row-actions">
                  <button type="button" class="small secondary" aria-label={`Edit ${row.userid}`} onClick={() => setEditing(row)}>
                    Edit
                  </button>
                  {row.userid.endsWith("@pbs") && (
                    <button type="button" class="small secondary" aria-label={`Change the password of ${row.userid}`}
                            onClick={() => setPassword(row)}>
                      Password
                    </button>
                  )}
                  {row.userid !== "root@pam" && (
                    <button type="button" class="small danger" aria-label={`Remove ${row.userid}`} onClick={() => setRemoving(row)}>
                      Remove
                    </button>
                  )}
                </span>
              ),
            },
          ]}
        />
      )}
      {editing && (
        <UserDialog
          user={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            users.reload();
          }}
        />
      )}
      {password && <PasswordDialog user={password} onClose={() => setPassword(null)} />}
      {removing && (
        <Confirm
          title={`Remove user ${removing.userid}`}
          action="Remove"
          onClose={() => setRemoving(null)}
          onConfirm={() =>
            call("DELETE", `/access/users/${encodeURIComponent(removing.userid)}`)
              .then(users.reload)
              .catch((failure: ApiError) => setError(failure))
          }
        >
          <p>The user, their API tokens and their permissions are removed.</p>
        </Confirm>
      )}
    </>
  );
}

// "YYYY-MM-DD" in the form, epoch seconds (0 = never) in the API.
function dateOf(epoch?: number): string {
  return epoch ? new Date(epoch * 1000).toISOString().slice(0, 10) : "";
}
function epochOf(date: string | boolean): number {
  return typeof date === "string" && date ? Math.floor(Date.parse(`${date}T23:59:59`) / 1000) : 0;
}

function UserDialog({ user, onClose, onSaved }: { user: User | null; onClose: () => void; onSaved: () => void }) {
  const form = useForm({
    userid: user?.userid ?? "",
    password: "",
    enable: user?.enable ?? true,
    expire: dateOf(user?.expire),
    firstname: user?.firstname ?? "",
    lastname: user?.lastname ?? "",
    email: user?.email ?? "",
    comment: user?.comment ?? "",
  });
  const v = form.values;
  const save = () =>
    form.submit(async () => {
      const params = {
        enable: Boolean(v.enable),
        expire: epochOf(v.expire),
        firstname: String(v.firstname) || undefined,
        lastname: String(v.lastname) || undefined,
        email: String(v.email) || undefined,
        comment: String(v.comment) || undefined,
      };
      if (user) {
        const cleared = (["firstname", "lastname", "email", "comment"] as const).filter((key) => !params[key] && user[key]);
        await call("PUT", `/access/users/${encodeURIComponent(user.userid)}`, { ...params, delete: cleared.length ? cleared : undefined });
      } else {
        await call("POST", "/access/users", { ...params, userid: String(v.userid), password: String(v.password) || undefined });
      }
      onSaved();
    });
  return (
    <Dialog title={user ? `Edit user ${user.userid}` : "Add user"} onClose={onClose} wide>
      <form class="grid-form" onSubmit={(event) => { event.preventDefault(); save(); }}>
        {!user && <TextInput form={form} name="userid" label="User id" required placeholder="alice@pbs" hint="name@pbs (password here) or name@pam (a system user)." />}
        {!user && <TextInput form={form} name="password" label="Password" type="password" autoComplete="new-password" hint="For @pbs users; 5 to 64 bytes." />}
        <TextInput form={form} name="firstname" label="First name" />
        <TextInput form={form} name="lastname" label="Last name" />
        <TextInput form={form} name="email" label="E-mail" type="email" />
        <TextInput form={form} name="expire" label="Expires" type="date" hint="Empty: never." />
        <TextInput form={form} name="comment" label="Comment" />
        <CheckBox form={form} name="enable" label="Enabled" />
        <div class="span">
          <FormButtons form={form} fields={["userid", "password", "firstname", "lastname", "email", "expire", "comment", "enable"]} submit={user ? "Save" : "Add"} onClose={onClose} />
        </div>
      </form>
    </Dialog>
  );
}

function PasswordDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const form = useForm({ password: "", confirm: "" });
  const save = () =>
    form.submit(async () => {
      if (form.values.password !== form.values.confirm) throw new ApiError("The passwords differ.", 400, { confirm: "Not the same as the password." });
      await call("PUT", "/access/password", { userid: user.userid, password: String(form.values.password) });
      onClose();
    });
  return (
    <Dialog title={`Password of ${user.userid}`} onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); save(); }}>
        <TextInput form={form} name="password" label="New password" type="password" required autoComplete="new-password" />
        <TextInput form={form} name="confirm" label="Repeat it" type="password" required autoComplete="new-password" />
        <FormButtons form={form} fields={["password", "confirm"]} submit="Set password" onClose={onClose} />
      </form>
    </Dialog>
  );
}

function Tokens() {
  const users = useApi<User[]>("/access/users");
  const [user, setUser] = useState("");
  const owner = user || users.data?.[0]?.userid || "";
  const tokens = useApi<ApiToken[]>(owner ? `/access/users/${encodeURIComponent(owner)}/token` : null);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ tokenid: string; value: string } | null>(null);
  const [removing, setRemoving] = useState<ApiToken | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const tokenName = (tokenid: string) => tokenid.slice(tokenid.indexOf("!") + 1);
  return (
    <>
      <div class="filters">
        <span class="inline">
          <label for="token-owner">User</label>
          <select id="token-owner" value={owner} onChange={(event) => setUser(event.currentTarget.value)}>
            {(users.data ?? []).map((item) => (
              <option value={item.userid}>{item.userid}</option>
            ))}
          </select>
        </span>
        <button type="button" onClick={() => setCreating(true)} disabled={!owner}>
          Add token
        </button>
      </div>
      <ErrorMessage error={error ?? users.error ?? tokens.error} />
      {tokens.data && (
        <Table
          caption="API tokens"
          rows={tokens.data}
          rowKey={(row) => row.tokenid}
          empty="This user has no API token."
          columns={[
            { title: "Token", render: (row) => row.tokenid },
            { title: "Enabled", render: (row) => (row.enable === false ? "no" : "yes") },
            { title: "Expires", render: (row) => (row.expire ? formatTime(row.expire) : "never") },
            { title: "Comment", render: (row) => row.comment ?? "" },
            {
              title: "Actions",
              render: (row) => (
                <button type="button" class="small danger" aria-label={`Remove ${row.tokenid}`} onClick={() => setRemoving(row)}>
                  Remove
                </button>
              ),
            },
          ]}
        />
      )}
      {creating && (
        <TokenDialog
          owner={owner}
          onClose={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            setSecret(created);
            tokens.reload();
          }}
        />
      )}
      {secret && <SecretDialog tokenid={secret.tokenid} value={secret.value} onClose={() => setSecret(null)} />}
      {removing && (
        <Confirm
          title={`Remove token ${removing.tokenid}`}
          action="Remove"
          onClose={() => setRemoving(null)}
          onConfirm={() =>
            call("DELETE", `/access/users/${encodeURIComponent(owner)}/token/${encodeURIComponent(tokenName(removing.tokenid))}`)
              .then(tokens.reload)
              .catch((failure: ApiError) => setError(failure))
          }
        >
          <p>Clients using this token lose access at once.</p>
        </Confirm>
      )}
    </>
  );
}

function TokenDialog({ owner, onClose, onCreated }: { owner: string; onClose: () => void; onCreated: (created: { tokenid: string; value: string }) => void }) {
  const form = useForm({ name: "", comment: "", expire: "", enable: true });
  const save = () =>
    form.submit(async () => {
      const created = await call<{ tokenid: string; value: string }>(
        "POST",
        `/access/users/${encodeURIComponent(owner)}/token/${encodeURIComponent(String(form.values.name))}`,
        { comment: String(form.values.comment) || undefined, expire: epochOf(form.values.expire), enable: Boolean(form.values.enable) },
      );
      onCreated(created);
    });
  return (
    <Dialog title={`Add an API token for ${owner}`} onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); save(); }}>
        <TextInput form={form} name="name" label="Token name" required hint="Letters, digits, '-', '_' and '.'." />
        <TextInput form={form} name="comment" label="Comment" />
        <TextInput form={form} name="expire" label="Expires" type="date" hint="Empty: never." />
        <CheckBox form={form} name="enable" label="Enabled" />
        <FormButtons form={form} fields={["comment", "expire", "enable"]} submit="Add" onClose={onClose} />
      </form>
    </Dialog>
  );
}

function SecretDialog({ tokenid, value, onClose }: { tokenid: string; value: string; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = () =>
    navigator.clipboard
      .writeText(value)
      .then(() => setCopied("Copied."))
      .catch(() => setCopied("The browser refused: select the secret and copy it by hand."));
  return (
    <Dialog title="Token secret" onClose={onClose}>
      <p>
        The secret of <strong>{tokenid}</strong> is shown only now. Store it where the client can read it (e.g. the
        CAIRN_PASSWORD environment variable of <code>cairn --repository</code>).
      </p>
      <Field label="Secret">
        {(id) => <input id={id} class="mono" readOnly value={value} data-testid="token-secret" onFocus={(event) => event.currentTarget.select()} />}
      </Field>
      <div class="actions">
        <button type="button" onClick={copy}>Copy</button>
        <button type="button" class="secondary" onClick={onClose}>Done</button>
        {copied && <span role="status">{copied}</span>}
      </div>
    </Dialog>
  );
}

function Acl() {
  const acl = useApi<AclEntry[]>("/access/acl");
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const revoke = (entry: AclEntry) =>
    call("PUT", "/access/acl", {
      path: entry.path,
      role: entry.roleid,
      [entry.ugid_type === "group" ? "group" : "auth-id"]: entry.ugid,
      delete: true,
    })
      .then(acl.reload)
      .catch((failure: ApiError) => setError(failure));
  return (
    <>
      <div class="actions">
        <button type="button" onClick={() => setAdding(true)}>
          Grant a role
        </button>
      </div>
      <ErrorMessage error={error ?? acl.error} />
      {acl.data && (
        <Table
          caption="Permissions"
          rows={acl.data}
          rowKey={(row) => `${row.path} ${row.ugid} ${row.roleid}`}
          empty="No permissions granted (root@pam may do everything)."
          columns={[
            { title: "Path", render: (row) => <span class="mono">{row.path}</span> },
            { title: "User or token", render: (row) => row.ugid },
            { title: "Role", render: (row) => row.roleid },
            { title: "Propagate", render: (row) => (row.propagate ? "yes" : "no") },
            {
              title: "Actions",
              render: (row) => (
                <button type="button" class="small danger" aria-label={`Revoke ${row.roleid} on ${row.path} from ${row.ugid}`}
                        onClick={() => revoke(row)}>
                  Revoke
                </button>
              ),
            },
          ]}
        />
      )}
      {adding && <GrantDialog onClose={() => setAdding(false)} onSaved={() => { setAdding(false); acl.reload(); }} />}
    </>
  );
}

function GrantDialog({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const roles = useApi<Role[]>("/access/roles");
  const form = useForm({ path: "/datastore/", "auth-id": "", role: "DatastoreReader", propagate: true });
  const save = () =>
    form.submit(async () => {
      await call("PUT", "/access/acl", {
        path: String(form.values.path),
        "auth-id": String(form.values["auth-id"]),
        role: String(form.values.role),
        propagate: Boolean(form.values.propagate),
      });
      onSaved();
    });
  const selected = roles.data?.find((role) => role.roleid === form.values.role);
  return (
    <Dialog title="Grant a role" onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); save(); }}>
        <TextInput form={form} name="path" label="Path" required hint="/, /datastore, /datastore/NAME, /datastore/NAME/NAMESPACE, /system/…" />
        <TextInput form={form} name="auth-id" label="User or token" required placeholder="alice@pbs or alice@pbs!backup" />
        <Select form={form} name="role" label="Role" options={(roles.data ?? [{ roleid: "DatastoreReader", privs: [] }]).map((role) => ({ value: role.roleid, label: role.roleid }))} />
        {selected && <p class="field-hint">{selected.privs.length ? selected.privs.join(", ") : "No privileges."}</p>}
        <CheckBox form={form} name="propagate" label="Propagate" hint="Also for everything below the path." />
        <FormButtons form={form} fields={["path", "auth-id", "role", "propagate"]} submit="Grant" onClose={onClose} />
      </form>
    </Dialog>
  );
}

function Effective() {
  const [authId, setAuthId] = useState("");
  const [shown, setShown] = useState("");
  const permissions = useApi<Record<string, Record<string, boolean>>>("/access/permissions", { "auth-id": shown || undefined });
  return (
    <>
      <form class="filters" onSubmit={(event) => { event.preventDefault(); setShown(authId.trim()); }}>
        <Field label="User or token" hint="Empty: yourself.">
          {(id, describedBy) => (
            <input id={id} value={authId} aria-describedby={describedBy} placeholder="alice@pbs!backup"
                   onInput={(event) => setAuthId(event.currentTarget.value)} />
          )}
        </Field>
        <button type="submit">Show</button>
      </form>
      <ErrorMessage error={permissions.error} />
      {permissions.data && (
        <Table
          caption="Effective permissions"
          rows={Object.entries(permissions.data)}
          rowKey={([path]) => path}
          empty="No privileges anywhere."
          columns={[
            { title: "Path", render: ([path]) => <span class="mono">{path}</span> },
            {
              title: "Privileges",
              render: ([, privs]) =>
                Object.entries(privs)
                  .filter(([, granted]) => granted)
                  .map(([name]) => name)
                  .join(", ") || "none",
            },
          ]}
        />
      )}
    </>
  );
}
