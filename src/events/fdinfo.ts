/** Rendering of inherited file descriptors: path or pseudo name, open flags. */
import type { FdInfo } from './types.js';

const S_IFMT = 0o170000;
const TYPES: Record<number, string> = {
  0o010000: 'fifo',
  0o020000: 'chr',
  0o040000: 'dir',
  0o060000: 'blk',
  0o100000: 'file',
  0o120000: 'link',
  0o140000: 'socket',
};

export function fdType(fd: FdInfo): string {
  if (fd.cloexec) return 'closed';
  return TYPES[fd.mode & S_IFMT] ?? 'anon';
}

/** Path as /proc/PID/fd would show it: pipe:[ino], socket:[ino], anon_inode:[x] or the file path. */
/** a closed fd's path: one shared empty buffer, not one per fd (it cannot be written to) */
const NO_PATH = Buffer.alloc(0);

export function fdPath(fd: FdInfo): Buffer {
  const t = fdType(fd);
  if (t === 'closed') return NO_PATH;
  // a pipe has no path, or "/" (the pipefs root)
  if (t === 'fifo' && (fd.path.length === 0 || (fd.path.length === 1 && fd.path[0] === 0x2f)))
    return Buffer.from(`pipe:[${fd.ino}]`);
  if (t === 'socket') return Buffer.from(`socket:[${fd.ino}]`);
  if (t === 'anon') return Buffer.from(`anon_inode:${fd.path.toString('latin1').replace(/^\//, '')}`, 'latin1');
  return fd.path;
}

const O_ACCMODE = 3;
const FLAG_NAMES: [number, string][] = [
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o4010000, 'O_SYNC'],
  [0o40000, 'O_DIRECT'],
  [0o10000000, 'O_PATH'],
];

export function fdFlags(fd: FdInfo): string[] {
  if (fd.cloexec) return ['FD_CLOEXEC'];
  const out = [['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][fd.flags & O_ACCMODE]!];
  for (const [bit, name] of FLAG_NAMES) if ((fd.flags & bit) === bit) out.push(name);
  return out;
}
