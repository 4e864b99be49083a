// Numbers and times as the pages show them.

export function formatBytes(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatTime(epoch: number | undefined | null): string {
  if (!epoch) return "–";
  const date = new Date(epoch * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

export function formatDuration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || seconds < 0) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatPercent(fraction: number | undefined | null): string {
  if (fraction === undefined || fraction === null || !Number.isFinite(fraction)) return "–";
  return `${(fraction * 100).toFixed(1)} %`;
}

// A task's UPID ("UPID:node:pid:pstart:task:starttime:type:id:user:") split into its parts.
export interface Upid {
  node: string;
  type: string;
  id: string;
  user: string;
  starttime: number;
}

export function parseUpid(upid: string): Upid | null {
  const parts = upid.split(":");
  if (parts.length < 9 || parts[0] !== "UPID") return null;
  return {
    node: parts[1],
    starttime: parseInt(parts[5], 16),
    type: parts[6],
    id: decodeURIComponent(parts[7].replace(/\\x([0-9a-f]{2})/gi, "%$1")),
    user: parts.slice(8).join(":").replace(/:$/, ""),
  };
}

// A PBS property string ("type=read-only,message=text") as a map. Values do not hold ','.
export function parseProperties(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (text ?? "").split(",")) {
    const eq = item.indexOf("=");
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
