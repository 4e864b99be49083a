// The shell: navigation, the page of the current route, and the login, shown instead of the
// pages before a session exists and over them once it expires (the page stays mounted, so a
// half-filled form survives a re-login).
import { useEffect, useState } from "preact/hooks";
import { currentSession, dropSession, logout, onSessionExpired, renew, Session } from "./api";
import { LoginForm } from "./pages/login";
import { Dashboard } from "./pages/dashboard";
import { DatastoreList } from "./pages/datastores";
import { DatastorePage } from "./pages/datastore";
import { TaskList } from "./pages/tasks";
import { TaskView } from "./pages/task_view";
import { S3EndpointList } from "./pages/s3_endpoints";
import { AccessPage } from "./pages/access";
import { href, useRoute } from "./router";

const kRenewMs = 15 * 60 * 1000;  // tickets live two hours

const kSections = [
  { route: "dashboard", title: "Dashboard" },
  { route: "datastores", title: "Datastores" },
  { route: "s3", title: "S3 endpoints" },
  { route: "tasks", title: "Tasks" },
  { route: "access", title: "Access control" },
];

function Page({ route }: { route: string[] }) {
  const [section, ...rest] = route;
  switch (section) {
    case "datastores":
      return <DatastoreList />;
    case "datastore":
      return <DatastorePage store={rest[0]} tab={rest[1] ?? "summary"} />;
    case "access":
      return <AccessPage tab={rest[0] ?? "users"} />;
    case "s3":
      return <S3EndpointList />;
    case "tasks":
      return rest[0] ? <TaskView upid={rest[0]} /> : <TaskList />;
    default:
      return <Dashboard />;
  }
}

export function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [expired, setExpired] = useState(false);
  const route = useRoute();
  useEffect(() => onSessionExpired(() => setExpired(true)), []);
  useEffect(() => {
    if (!session) return;
    const timer = setInterval(() => renew().catch(() => setExpired(true)), kRenewMs);
    return () => clearInterval(timer);
  }, [session]);

  if (!session) {
    return (
      <main class="login-page">
        <LoginForm onLogin={setSession} />
      </main>
    );
  }
  const section = route[0] === "datastore" ? "datastores" : route[0] ?? "dashboard";
  return (
    <div class="shell">
      <a class="skip-link" href="#content">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Cairn</span>
        <span class="user">
          {session.username}
          <button
            type="button"
            class="secondary"
            onClick={() =>
              logout()
                .catch(() => dropSession())
                .finally(() => setSession(null))
            }
          >
            Log out
          </button>
        </span>
      </header>
      <nav class="sidebar" aria-label="Sections">
        <ul>
          {kSections.map((item) => (
            <li>
              <a href={href(item.route)} aria-current={section === item.route ? "page" : undefined}>
                {item.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="content" tabIndex={-1}>
        <Page route={route} />
      </main>
      {expired && (
        <div class="overlay">
          <div class="overlay-box" role="dialog" aria-modal="true" aria-labelledby="expired-title">
            <h2 id="expired-title">Your session has ended</h2>
            <p>Log in again to go on where you were.</p>
            <LoginForm
              initialUser={session.username}
              onLogin={(next) => {
                setSession(next);
                setExpired(false);
              }}
            />
          </div>
        </div>
      )}
    </div>
  );
}
