/**
 * `-p PID[,PID…]`: processes that already run, and the descendants they have now. Each one is followed before
 * its children are listed, so a child forked meanwhile is either listed here or seen forking by the kernel
 * (its parent is followed by then): none falls between the two.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { EXIT, ExeclensError } from '../exitcodes.js';
import { splitNul } from '../events/decode.js';

export interface AttachedProcess {
  pid: number;
  /** its parent among the attached ones, 0 for a pid given on the command line */
  ppid: number;
  /** the environment its image started with (/proc/PID/environ), null when unreadable */
  env: Buffer[] | null;
  cwd: Buffer | null;
}

/** "12,34" (and repeated -p) -> pids; anything else is a usage error */
export function parsePids(list: readonly string[]): number[] {
  const pids: number[] = [];
  for (const item of list.flatMap((s) => s.split(','))) {
    if (!/^[1-9]\d*$/.test(item.trim()))
      throw new ExeclensError(`-p ${item}: not a process id (a positive number; several: -p 12,34)`, EXIT.USAGE);
    pids.push(Number(item.trim()));
  }
  return [...new Set(pids)];
}

/** the children of every thread of pid (/proc/PID/task/TID/children, 3.5+, CONFIG_PROC_CHILDREN) */
export function childrenOf(pid: number, proc = '/proc'): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`${proc}/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`${proc}/${pid}/task/${tid}/children`, 'utf8').split(' '))
        if (c.trim()) out.push(Number(c));
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

function readEnv(pid: number, proc: string): Buffer[] | null {
  try {
    return splitNul(readFileSync(`${proc}/${pid}/environ`));
  } catch {
    return null;
  }
}

function readCwd(pid: number, proc: string): Buffer | null {
  try {
    return readlinkSync(`${proc}/${pid}/cwd`, { encoding: 'buffer' });
  } catch {
    return null;
  }
}

/**
 * Follow the given processes and their descendants, breadth first: follow(pid) first, then its children.
 * A pid that does not exist is a usage error (before anything is followed).
 */
export function attachTree(
  pids: readonly number[],
  follow: (pid: number) => void,
  proc = '/proc',
  /** left out with what they run: execlens itself, when -p names the shell it runs in */
  skip: readonly number[] = [process.pid],
): AttachedProcess[] {
  for (const pid of pids) {
    try {
      readFileSync(`${proc}/${pid}/stat`);
    } catch {
      throw new ExeclensError(`-p ${pid}: no such process`, EXIT.USAGE);
    }
  }
  const seen = new Set<number>();
  const out: AttachedProcess[] = [];
  const queue: [number, number][] = pids.map((p) => [p, 0]);
  while (queue.length) {
    const [pid, ppid] = queue.shift()!;
    if (seen.has(pid) || skip.includes(pid)) continue;
    seen.add(pid);
    follow(pid);
    out.push({ pid, ppid, env: readEnv(pid, proc), cwd: readCwd(pid, proc) });
    for (const c of childrenOf(pid, proc)) queue.push([c, pid]);
  }
  return out;
}
