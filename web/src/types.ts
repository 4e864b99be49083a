// The shapes of the API answers the pages read (docs/api.md).

export interface DatastoreUsage {
  store: string;
  "backend-type": string;
  total?: number;
  used?: number;
  avail?: number;
  error?: string;
  "mount-status"?: string;
  "maintenance-mode"?: string;
}

export interface GcStatus {
  started?: number;
  duration?: number;
  "dedup-factor"?: number;
  "disk-bytes"?: number;
  "disk-chunks"?: number;
  "index-data-bytes"?: number;
  "index-file-count"?: number;
  "removed-bytes"?: number;
  "removed-chunks"?: number;
  "pending-bytes"?: number;
  "missing-chunks"?: number;
  "still-bad"?: number;
}

export interface S3Statistics {
  requests: Record<string, number>;  // get, put, head, list, delete, copy
  retries: number;
  failures: number;
  "bytes-in": number;
  "bytes-out": number;
}

export interface DatastoreStatus {
  "backend-type": string;
  "s3-statistics"?: S3Statistics;
  total?: number;
  used?: number;
  avail?: number;
  counts?: Record<string, { groups: number; snapshots: number }>;
  "gc-status"?: GcStatus;
}

export interface Task {
  upid: string;
  node: string;
  starttime: number;
  endtime?: number;
  status?: string;
  user: string;
  worker_type: string;
  worker_id?: string;
}

export interface TaskStatus {
  upid: string;
  status: "running" | "stopped";
  exitstatus?: string;
  starttime: number;
  type: string;
  id?: string;
  user: string;
}

export interface LogLine {
  n: number;
  t: string;
}

export interface BackupGroup {
  "backup-type": string;
  "backup-id": string;
  "backup-count": number;
  "last-backup": number;
  owner?: string;
  comment?: string;
}

export interface SnapshotFile {
  filename: string;
  size?: number;
  "crypt-mode"?: string;
}

export interface Snapshot {
  "backup-type": string;
  "backup-id": string;
  "backup-time": number;
  size?: number;
  protected?: boolean;
  comment?: string;
  owner?: string;
  files: SnapshotFile[];
  verification?: { state: string; upid?: string };
}

export interface Namespace {
  ns: string;
}

export interface S3Endpoint {
  id: string;
  endpoint: string;
  port?: number;
  region?: string;
  "access-key"?: string;
  "path-style"?: boolean;
  fingerprint?: string;
  "put-rate-limit"?: number;
  "rate-in"?: number;
  "burst-in"?: number;
  "rate-out"?: number;
  "burst-out"?: number;
  "max-connections"?: number;
  "provider-quirks"?: string[];
}

export interface DatastoreConfig {
  name: string;
  path: string;
  backend?: string;
  "maintenance-mode"?: string;
  "max-cache-size"?: number;
  tuning?: string;
}

export interface User {
  userid: string;
  enable?: boolean;
  expire?: number;
  comment?: string;
  firstname?: string;
  lastname?: string;
  email?: string;
}

export interface ApiToken {
  tokenid: string;
  enable?: boolean;
  expire?: number;
  comment?: string;
}

export interface AclEntry {
  path: string;
  propagate: boolean;
  roleid: string;
  ugid: string;
  ugid_type: string;
}

export interface Role {
  roleid: string;
  privs: string[];
  comment?: string;
}
