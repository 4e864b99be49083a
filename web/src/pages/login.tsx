import { useState } from "preact/hooks";
import { ApiError, login, Session } from "../api";
import { ErrorMessage, Field } from "../components/ui";

interface Props {
  onLogin: (session: Session) => void;
  initialUser?: string;
}

// User names carry their realm ("admin@pbs", "root@pam"); a bare name is taken as @pam, as
// PBS's login form does with its realm selector left at the default.
export function LoginForm({ onLogin, initialUser }: Props) {
  const [username, setUsername] = useState(initialUser ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const user = username.includes("@") ? username : `${username}@pam`;
    try {
      onLogin(await login(user, password));
    } catch (failure) {
      const status = (failure as ApiError).status;
      setError(
        status === 401 || status === 403
          ? "Login failed: wrong user name or password."
          : (failure as Error).message,
      );
      setPassword("");
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login" onSubmit={submit} aria-labelledby="login-title">
      <h1 id="login-title">Cairn Backup Server</h1>
      <ErrorMessage error={error} />
      <Field label="User name" hint="With its realm, e.g. admin@pbs; root means root@pam.">
        {(id, describedBy) => (
          <input
            id={id}
            name="username"
            autoComplete="username"
            required
            value={username}
            aria-describedby={describedBy}
            onInput={(event) => setUsername(event.currentTarget.value)}
          />
        )}
      </Field>
      <Field label="Password">
        {(id) => (
          <input
            id={id}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        )}
      </Field>
      <button type="submit" disabled={busy}>
        {busy ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}
