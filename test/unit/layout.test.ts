import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHUNK, CONFIG, EXEC, EXIT, FD, FORK, HDR } from '../../src/events/layout.js';
import { ROOT } from '../helpers/paths.js';

const OBJ = join(ROOT, 'build/bpf/execlens.bpf.o');

/** struct name -> member -> byte offset, from the BTF of the built object */
function btfStructs(): Map<string, { size: number; members: Map<string, number> }> {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', OBJ, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 64 << 20 });
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

test('TypeScript record offsets match the BPF object BTF', { skip: existsSync(OBJ) ? false : 'BPF object not built (npm run build:bpf)' }, () => {
  const s = btfStructs();
  const check = (name: string, layout: Record<string, number>, base = 0) => {
    const st = s.get(name);
    assert.ok(st, `struct ${name} in BTF`);
    for (const [k, off] of Object.entries(layout)) {
      if (k === 'size') assert.equal(st.size, off, `${name} size`);
      else if (st.members.has(k)) assert.equal(st.members.get(k)! + base, off, `${name}.${k}`);
      else assert.fail(`${name}.${k} missing in BTF`);
    }
  };
  check('rec_hdr', HDR);
  check('el_chunk', CHUNK);
  check('el_exec', EXEC);
  check('el_fork', FORK);
  check('el_exit', EXIT);
  check('el_fd', FD);
  check('el_config', { filter: CONFIG.filter, sleepable: CONFIG.sleepable, block_chunks: CONFIG.block_chunks, capture_env: CONFIG.capture_env, capture_fds: CONFIG.capture_fds, size: CONFIG.size });
});
