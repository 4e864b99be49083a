// A snapshot's file archives, browsed through their catalog: directories open in place, a
// file downloads as it is, a directory as a .zip or .tar.zst made by the server while it is
// sent. Nothing is restored or extracted first.
import { useState } from "preact/hooks";
import { Params } from "../api";
import { useApi } from "../components/use_api";
import { Dialog, ErrorMessage, Loading, Table } from "../components/ui";
import { formatBytes, formatTime } from "../format";

interface CatalogEntry {
  filepath: string;
  text: string;
  type: string;
  leaf: boolean;
  size?: number;
  mtime?: number;
  encrypted?: boolean;
  "link-target"?: string;
}

const kTypeNames: Record<string, string> = {
  d: "directory",
  f: "file",
  l: "symlink",
  h: "hard link",
  b: "block device",
  c: "character device",
  p: "FIFO",
  s: "socket",
};

function encodePath(path: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(path)));
}

interface Props {
  store: string;
  snapshot: Params;  // ns, backup-type, backup-id, backup-time
  title: string;
  onClose: () => void;
}

export function FileBrowser({ store, snapshot, title, onClose }: Props) {
  const [path, setPath] = useState<string[]>([]);  // [archive file, dir, dir, ...]
  const base = `/admin/datastore/${encodeURIComponent(store)}`;
  const filepath = encodePath("/" + path.join("/"));
  const entries = useApi<CatalogEntry[]>(`${base}/catalog`, { ...snapshot, filepath });
  const download = (entryPath: string, tar = false) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(snapshot)) if (value !== undefined && value !== "") search.set(key, String(value));
    search.set("filepath", encodePath(entryPath));
    if (tar) search.set("tar", "1");
    return `/api2/json${base}/pxar-file-download?${search}`;
  };
  const here = "/" + path.join("/");
  return (
    <Dialog title={`Files of ${title}`} onClose={onClose} wide>
      <nav class="breadcrumb" aria-label="Folder">
        <button type="button" class="link" onClick={() => setPath([])}>archives</button>
        {path.map((part, index) => (
          <span>
            {" / "}
            <button type="button" class="link" onClick={() => setPath(path.slice(0, index + 1))}>
              {part}
            </button>
          </span>
        ))}
      </nav>
      {path.length > 0 && (
        <div class="actions">
          <a class="button secondary small" href={download(here)} download>
            Download this folder (.zip)
          </a>
          <a class="button secondary small" href={download(here, true)} download>
            Download this folder (.tar.zst)
          </a>
        </div>
      )}
      <ErrorMessage error={entries.error} />
      {!entries.data && !entries.error && <Loading what="the catalog" />}
      {entries.data && (
        <div class="browser">
          <Table
            caption={`Contents of ${here}`}
            rows={entries.data}
            rowKey={(entry) => entry.filepath}
            empty="This folder is empty."
            columns={[
              {
                title: "Name",
                render: (entry) =>
                  entry.type === "d" && !entry.encrypted ? (
                    <button type="button" class="link" onClick={() => setPath([...path, entry.text])}>
                      {entry.text}/
                    </button>
                  ) : (
                    <span>
                      {entry.text}
                      {entry["link-target"] ? ` → ${entry["link-target"]}` : ""}
                      {entry.encrypted ? " (encrypted: browse it with the client and its key)" : ""}
                    </span>
                  ),
              },
              { title: "Type", render: (entry) => kTypeNames[entry.type] ?? entry.type },
              { title: "Size", align: "right", render: (entry) => (entry.type === "f" ? formatBytes(entry.size) : "") },
              { title: "Modified", render: (entry) => (entry.mtime ? formatTime(entry.mtime) : "") },
              {
                title: "Download",
                render: (entry) => {
                  const entryPath = `${here === "/" ? "" : here}/${entry.text}`;
                  if (entry.type === "f" || entry.type === "h") {
                    return (
                      <a href={download(entryPath)} download={entry.text} aria-label={`Download ${entry.text}`}>
                        file
                      </a>
                    );
                  }
                  if (entry.type === "d" && !entry.encrypted) {
                    return (
                      <span class="row-actions">
                        <a href={download(entryPath)} download aria-label={`Download ${entry.text} as zip`}>.zip</a>
                        <a href={download(entryPath, true)} download aria-label={`Download ${entry.text} as tar.zst`}>.tar.zst</a>
                      </span>
                    );
                  }
                  return "";
                },
              },
            ]}
          />
        </div>
      )}
    </Dialog>
  );
}
