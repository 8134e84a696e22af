/**
 * One exec as a list row: styled segments (the text log's colours: src/output/format.ts) and the plain text
 * that filter and search look at.
 */
import { clock, type FormatOptions } from '../../output/format.js';
import { errnoName } from '../../output/errno.js';
import { lossy, shellJoin, shellQuote } from '../../output/quote.js';
import type { Row } from './store.js';
import { signalName } from './status.js';

export type Style = 'plain' | 'dim' | 'bold' | 'red' | 'green' | 'yellow' | 'cyan' | 'magenta';

export interface Segment {
  text: string;
  style: Style;
}

/** how the process ended after this exec: '' while running, else exit N or the signal's name */
export function endText(status: number | null): string {
  if (status === null) return '';
  const sig = status & 0x7f;
  if (sig !== 0 && sig !== 0x7f) return signalName(sig);
  return `exit ${(status >> 8) & 0xff}`;
}

export function failed(r: Row): boolean {
  return r.item.ev.ret !== 0 || (r.exitStatus !== null && r.exitStatus !== 0);
}

/** the words a filter or search matches: pid, result, comm, filename, argv (as the row shows them), cwd */
export function searchText(r: Row): string {
  const ev = r.item.ev;
  const fn = ev.filename ? shellQuote(ev.filename) : '?';
  return `${ev.pid} ${ev.ret === 0 ? 'ok' : errnoName(ev.ret)} ${lossy(ev.comm)} ${fn} ${shellJoin(ev.argv)} ${ev.cwd ? lossy(ev.cwd) : ''} ${endText(r.exitStatus)}`;
}

/** time, pid<ppid>, result, how it ended, filename, argv shell-quoted (argv[0] left out when it is the filename) */
export function rowSegments(r: Row, fmt: Pick<FormatOptions, 'bootToWallNs'>, indent = ''): Segment[] {
  const ev = r.item.ev;
  const ok = ev.ret === 0;
  const end = endText(r.exitStatus);
  const segs: Segment[] = [
    { text: clock(ev.tsNs, fmt).slice(0, 12), style: 'dim' },
    { text: ' ', style: 'plain' },
    { text: String(ev.pid), style: 'bold' },
    { text: `<${ev.ppid}> `, style: 'dim' },
    { text: ok ? 'ok' : errnoName(ev.ret), style: ok ? 'green' : 'red' },
  ];
  if (end) segs.push({ text: ` ${end}`, style: end === 'exit 0' ? 'dim' : 'red' });
  segs.push({ text: ` ${indent}`, style: 'plain' });
  const fn = ev.filename ? shellQuote(ev.filename) : '?';
  segs.push({ text: fn, style: 'yellow' });
  const a0 = ev.argv[0];
  const args =
    a0 !== undefined && ev.filename && (a0.equals(ev.filename) || fn.endsWith(`/${shellQuote(a0)}`))
      ? ev.argv.slice(1)
      : ev.argv;
  if (args.length) segs.push({ text: ` ${shellJoin(args)}`, style: 'plain' });
  return segs;
}
