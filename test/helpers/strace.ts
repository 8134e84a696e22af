/** The execve calls of `strace -f -e trace=execve -s 9999 -o FILE`: the oracle the build tests compare with. */

export interface StraceExec {
  pid: number;
  path: string;
  argv: string[];
  ret: number;
}

/** one C string as strace prints it ("a\"b\n\303\251"), from index i at its opening quote; returns it and where it ended */
function cString(s: string, i: number): [string, number] {
  const bytes: number[] = [];
  const esc: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '"': 34, '\\': 92, "'": 39 };
  for (i++; s[i] !== '"'; i++) {
    if (i >= s.length) throw new Error(`unterminated string in: ${s.slice(0, 200)}`);
    if (s[i] !== '\\') {
      bytes.push(...Buffer.from(s[i]!));
      continue;
    }
    const c = s[++i]!;
    const oct = /^[0-7]{1,3}/.exec(s.slice(i, i + 3));
    if (oct) {
      bytes.push(parseInt(oct[0], 8));
      i += oct[0].length - 1;
    } else if (c === 'x') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(esc[c] ?? c.charCodeAt(0));
  }
  return [Buffer.from(bytes).toString('utf8'), i + 1];
}

function parseCall(pid: number, call: string): StraceExec | null {
  const m = /^execve\(/.exec(call);
  if (!m) return null;
  const [path, end] = cString(call, 'execve('.length);
  let i = end;
  i = call.indexOf('[', i);
  const argv: string[] = [];
  while (call[i] !== ']') {
    i++;
    if (call[i] === ']') break;
    while (call[i] === ' ' || call[i] === ',') i++;
    if (call[i] !== '"') break;
    let a: string;
    [a, i] = cString(call, i);
    argv.push(a);
  }
  const ret = /\)\s+=\s+(-?\d+)/.exec(call.slice(i));
  return { pid, path, argv, ret: ret ? Number(ret[1]) : NaN };
}

export function parseStraceExecs(text: string): StraceExec[] {
  const out: StraceExec[] = [];
  const unfinished = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    let call = m[2]!;
    const resumed = /^<\.\.\. execve resumed>(.*)$/.exec(call);
    if (resumed) {
      call = (unfinished.get(pid) ?? '') + resumed[1];
      unfinished.delete(pid);
    } else if (call.endsWith('<unfinished ...>')) {
      unfinished.set(pid, call.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const e = parseCall(pid, call);
    if (e) out.push(e);
  }
  return out;
}
