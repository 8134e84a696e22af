/**
 * --collect-cgroup: an exec's cgroup v2 id (bpf_get_current_cgroup_id(), the inode of the cgroup's directory)
 * as its path in the cgroup v2 tree (as /proc/PID/cgroup's `0::` line shows it), and the container id when the path names one. The ids are resolved by
 * walking the cgroup tree: once at the start, again when an id is not known yet (a cgroup made since), at most
 * every RESCAN_MS, so a cgroup already removed costs one walk, not one per exec.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const RESCAN_MS = 250;

export interface CgroupInfo {
  /** e.g. /system.slice/docker-<id>.scope; null: not resolved (removed before it was seen, or no cgroup v2) */
  path: string | null;
  /** a 64-hex container id in the path (docker, containerd, CRI-O, podman), or null */
  containerId: string | null;
}

/** the container runtimes' cgroup names: docker-ID.scope, /docker/ID, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope */
const CONTAINER_ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:\/|$)/;

export function containerIdOf(path: string): string | null {
  let id: string | null = null;
  // the innermost one (a container inside a container's cgroup)
  for (const part of path.split('/')) {
    const m = CONTAINER_ID.exec(`/${part}`);
    if (m) id = m[1]!;
  }
  return id;
}

/**
 * Where cgroup v2 is mounted: /sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified on a hybrid one (v1
 * controllers beside it, as on this project's CI hosts); null without cgroup v2.
 */
export function cgroup2Mount(mounts = '/proc/self/mounts'): string | null {
  try {
    for (const l of readFileSync(mounts, 'utf8').split('\n')) {
      const f = l.split(' ');
      if (f[2] === 'cgroup2' && f[1]) return f[1].replace(/\\040/g, ' ');
    }
  } catch {
    /* no /proc */
  }
  return null;
}

export class CgroupNames {
  private readonly byId = new Map<bigint, string>();
  private lastScan = -Infinity;
  scans = 0;

  constructor(
    private readonly root: string | null = cgroup2Mount(),
    private readonly now: () => number = Date.now,
  ) {}

  private scan(): void {
    this.lastScan = this.now();
    this.scans++;
    this.walk('', null);
  }

  /**
   * Remember the id of every cgroup at and below `rel` (relative to the mount, '' for the root); with `want`,
   * stop at the cgroup of that id and return its path. A cgroup removed meanwhile is skipped.
   */
  private walk(rel: string, want: bigint | null): string | null {
    if (this.root === null) return null;
    const dir = join(this.root, rel);
    let ino: bigint;
    try {
      ino = statSync(dir, { bigint: true }).ino;
    } catch {
      return null;
    }
    const path = rel === '' ? '/' : `/${rel}`;
    this.byId.set(ino, path);
    if (ino === want) return path;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of entries)
      if (e.isDirectory()) {
        const hit = this.walk(rel === '' ? e.name : `${rel}/${e.name}`, want);
        if (hit !== null) return hit;
      }
    return null;
  }

  /**
   * An id under `rel` (a path as resolve gives them) found by walking that subtree now: --cgroup's cgroup is
   * small, and an exec in a cgroup made since the last walk must not wait for the next one.
   */
  findUnder(id: bigint, rel: string): string | null {
    return this.walk(rel === '/' ? '' : rel.replace(/^\//, ''), id);
  }

  resolve(id: bigint): CgroupInfo {
    if (id === 0n) return { path: null, containerId: null };
    let path = this.byId.get(id);
    if (path === undefined && this.now() - this.lastScan >= RESCAN_MS) {
      this.scan();
      path = this.byId.get(id);
    }
    return path === undefined ? { path: null, containerId: null } : { path, containerId: containerIdOf(path) };
  }
}

/** `--cgroup PATH`: the cgroup as /proc/PID/cgroup names it (path) and its directory under the cgroup2 mount */
export interface CgroupChoice {
  path: string;
  dir: string;
  /** its id (the directory's inode, as bpf_get_current_cgroup_id gives it) and depth (the root's 0) */
  id: bigint;
  level: number;
}

/**
 * PATH as the user gives it: the directory itself (/sys/fs/cgroup/system.slice), or the path as
 * --collect-cgroup and /proc/PID/cgroup show it (/system.slice, or system.slice). An error message when
 * there is no cgroup v2 or no such cgroup.
 */
export function resolveCgroupArg(arg: string, mount = cgroup2Mount()): CgroupChoice | string {
  if (mount === null) return `--cgroup ${arg}: no cgroup v2 is mounted here (cgroup2 in /proc/self/mounts)`;
  const m = mount.replace(/\/+$/, '');
  let path = arg === m || arg.startsWith(`${m}/`) ? arg.slice(m.length) : arg;
  path = `/${path.split('/').filter(Boolean).join('/')}`;
  const dir = path === '/' ? m : `${m}${path}`;
  let st;
  try {
    st = statSync(dir, { bigint: true });
  } catch {
    /* no such cgroup */
  }
  if (!st?.isDirectory())
    return `--cgroup ${arg}: no such cgroup (no directory ${dir}); --collect-cgroup shows the cgroups of a run`;
  return { path, dir, id: st.ino, level: path === '/' ? 0 : path.split('/').length - 1 };
}

/** the cgroup path `path` is `want` or below it */
export function isUnder(path: string, want: string): boolean {
  return want === '/' || path === want || path.startsWith(`${want}/`);
}
