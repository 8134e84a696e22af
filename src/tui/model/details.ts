/** The details view of one exec: every field the trace has, as labelled lines of styled segments. */
import { bytes, envEntry, isEmptyDiff } from '../../events/envdiff.js';
import { fdFlags, fdPath, fdType } from '../../events/fdinfo.js';
import { ExecFlag, SYSCALL_NAMES } from '../../events/layout.js';
import { clock, flagNames, type FormatOptions } from '../../output/format.js';
import { errnoName } from '../../output/errno.js';
import { lossy, shellJoin, shellQuote } from '../../output/quote.js';
import { endText, type Segment } from './rowtext.js';
import { itemOf, type ExecStore, type Row } from './store.js';

type Line = Segment[];

const label = (l: string): Segment => ({ text: l.padEnd(10), style: 'dim' });
const plain = (text: string): Segment => ({ text, style: 'plain' });

function lostText(r: Row): string {
  const ev = r.item.ev;
  const f = flagNames(ev.flags)
    .filter((n) => n !== 'COMPAT' && n !== 'FAILED_PATH' && n !== 'NO_ENTRY')
    .map((n) => n.toLowerCase());
  if (ev.missingChunks) f.push(`${ev.missingChunks} chunk record(s) lost`);
  return f.length ? f.join(', ') : 'nothing';
}

function header(r: Row, fmt: Pick<FormatOptions, 'bootToWallNs' | 'startNs'>): Line[] {
  const ev = r.item.ev;
  const ok = ev.ret === 0;
  // no entry record (--successful-only; a compat exec on a tracepoint plan): no syscall, no old comm, no start
  const noEntry = (ev.flags & ExecFlag.NO_ENTRY) !== 0;
  const took = noEntry ? '' : `  exec took ${(Number(ev.tsNs - ev.enterTsNs) / 1000).toFixed(0)} µs`;
  return [
    [
      label('pid'),
      { text: String(ev.pid), style: 'bold' },
      plain(` ppid ${ev.ppid}  tid ${ev.tid}${ev.nsLevel ? `  ns pid ${ev.nsPid} (level ${ev.nsLevel})` : ''}`),
    ],
    [
      label('comm'),
      { text: `${ev.oldComm.length ? lossy(ev.oldComm) : '?'} -> ${lossy(ev.comm)}`, style: 'cyan' },
      plain(
        noEntry
          ? '  syscall entry not seen'
          : `  ${SYSCALL_NAMES[ev.syscall] ?? 'unknown'}${ev.atFd !== -100 ? ` dirfd ${ev.atFd} flags 0x${ev.atFlags.toString(16)}` : ''}`,
      ),
    ],
    [label('time'), plain(`${clock(ev.tsNs, fmt)}  +${(Number(ev.tsNs - fmt.startNs) / 1e9).toFixed(6)} s${took}`)],
    [
      label('result'),
      { text: ok ? 'ok' : `${errnoName(ev.ret)} (${ev.ret})`, style: ok ? 'green' : 'red' },
      plain(`  process: ${endText(r.exitStatus) || 'running (or its end not seen)'}`),
    ],
    [label('filename'), { text: ev.filename ? shellQuote(ev.filename) : '? (entry not seen)', style: 'yellow' }],
    ...(ev.interpreter?.length ? [[label('interp'), plain(`#!${shellJoin(ev.interpreter)}`)]] : []),
    [label('cwd'), plain(ev.cwd ? shellQuote(ev.cwd) : '?')],
    [
      label('creds'),
      plain(
        `uid ${ev.uid} gid ${ev.gid} euid ${ev.euid} egid ${ev.egid}${ev.euid !== ev.uid || ev.egid !== ev.gid ? '  (set-id)' : ''}`,
      ),
    ],
    [
      label('flags'),
      plain(
        flagNames(ev.flags)
          .map((n) => n.toLowerCase())
          .join(' ') || '-',
      ),
    ],
    [label('lost'), { text: lostText(r), style: lostText(r) === 'nothing' ? 'plain' : 'red' }],
  ];
}

function listLines(name: string, items: string[], empty: string): Line[] {
  if (!items.length) return [[label(name), { text: empty, style: 'dim' }]];
  return items.map((t, i) => [i === 0 ? label(name) : label(''), plain(t)]);
}

export function detailLines(store: ExecStore, r: Row, fmt: Pick<FormatOptions, 'bootToWallNs' | 'startNs'>): Line[] {
  const { ev, diff: d } = itemOf(r);
  const diff =
    d && !isEmptyDiff(d)
      ? [
          ...d.added.map(([k, v]) => `+${shellQuote(bytes(envEntry(k, v)))}`),
          ...d.changed.map(
            ([k, o, v]) => `~${shellQuote(bytes(envEntry(k, v)))}  (was ${o === null ? 'bare' : shellQuote(bytes(o))})`,
          ),
          ...d.removed.map((k) => `-${shellQuote(bytes(k))}`),
        ]
      : [];
  const parent = store.get(r.parent);
  const lines: Line[] = [
    ...header(r, fmt),
    [
      label('parent'),
      plain(
        parent
          ? `pid ${parent.item.ev.pid} ${parent.item.ev.filename ? shellQuote(parent.item.ev.filename) : '?'}  (p: go to it)`
          : r.parent < 0
            ? 'none traced'
            : 'dropped from the history',
      ),
    ],
    [label('children'), plain(`${r.children.length} exec(s)`)],
    ...listLines(
      'argv',
      ev.argv.map((a, i) => `[${i}] ${shellQuote(a)}`),
      '(empty)',
    ),
    ...listLines('env diff', diff, d ? '(no change)' : '(no baseline known)'),
    ...listLines(
      'fds',
      ev.fds.map((f) =>
        f.cloexec
          ? `${f.fd} closed by the exec (FD_CLOEXEC)`
          : `${f.fd} ${shellQuote(fdPath(f))} ${fdType(f)} ${fdFlags(f).join(',')}`,
      ),
      '(none captured)',
    ),
    ...listLines(
      `env (${ev.env?.length ?? 0})`,
      (ev.env ?? []).map((e) => shellQuote(e)),
      ev.env ? '(empty)' : '(not captured)',
    ),
  ];
  return lines;
}
