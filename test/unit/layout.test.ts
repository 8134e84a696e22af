import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHUNK, CONFIG, EXEC, EXIT, FD, FORK, HDR } from '../../src/events/layout.js';
import { ROOT } from '../helpers/paths.js';

const OBJ = join(ROOT, 'build/bpf/execlens.bpf.o');
const LAYOUT = join(ROOT, 'src/events/layout.ts');
const HAVE_BPFTOOL = spawnSync('bpftool', ['version'], { stdio: 'ignore' }).status === 0;
const skip = !existsSync(OBJ)
  ? 'BPF object not built (npm run build:bpf)'
  : !HAVE_BPFTOOL
    ? 'bpftool not installed (apt-get install bpftool): cannot read the object BTF'
    : false;

/** struct name -> member -> byte offset, from bpftool's raw BTF dump (not the generator's JSON path) */
function btfStructs(): Map<string, { size: number; members: Map<string, number> }> {
  const args = ['btf', 'dump', 'file', OBJ, 'format', 'raw'];
  const out = execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = new Map<string, { size: number; members: Map<string, number> }>();
  let cur: Map<string, number> | null = null;
  for (const line of out.split('\n')) {
    const st = /^\[\d+\] STRUCT '(\w+)' size=(\d+)/.exec(line);
    if (st) {
      cur = new Map();
      m.set(st[1]!, { size: Number(st[2]), members: cur });
      continue;
    }
    const mem = /^\s+'(\w+)' type_id=\d+ bits_offset=(\d+)/.exec(line);
    if (mem && cur) cur.set(mem[1]!, Number(mem[2]) / 8);
    else if (!/^\s/.test(line)) cur = null;
  }
  return m;
}

test('src/events/layout.ts is what scripts/gen-layout.py generates from the built object', { skip }, () => {
  const generated = execFileSync('python3', [join(ROOT, 'scripts/gen-layout.py'), OBJ], { encoding: 'utf8' });
  assert.equal(readFileSync(LAYOUT, 'utf8'), generated, 'stale layout.ts: run REGEN_LAYOUT=1 scripts/build-bpf.sh');
});

test('TypeScript record offsets match the BPF object BTF (raw dump)', { skip }, () => {
  const s = btfStructs();
  const check = (name: string, layout: Record<string, number>) => {
    const st = s.get(name);
    assert.ok(st, `struct ${name} in BTF`);
    for (const [k, off] of Object.entries(layout)) {
      if (k === 'size') assert.equal(st.size, off, `${name} size`);
      else if (st.members.has(k)) assert.equal(st.members.get(k)!, off, `${name}.${k}`);
      else assert.fail(`${name}.${k} missing in BTF`);
    }
  };
  check('rec_hdr', HDR);
  check('el_chunk', CHUNK);
  check('el_exec', EXEC);
  check('el_fork', FORK);
  check('el_exit', EXIT);
  check('el_fd', FD);
  check('el_config', CONFIG);
});
