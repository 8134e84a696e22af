import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daLines, formatTable, relativiseLcov, summariseLcov, totals } from '../../src/coverage/lcov.js';

// the shape llvm-cov export -format=lcov and c8 write (geninfo's tracefile format)
const LCOV = `TN:
SF:/repo/bpf/a.bpf.c
FN:3,f
FNDA:2,f
FNF:1
FNH:1
DA:3,2
DA:4,0
BRDA:4,0,0,2
BRDA:4,0,1,0
BRF:2
BRH:1
LF:2
LH:1
end_of_record
SF:/elsewhere/b.ts
FNF:2
FNH:0
LF:10
LH:0
end_of_record
`;

test('lcov totals per file: lines, functions and branches as hit/found', () => {
  const files = summariseLcov(LCOV);
  assert.deepEqual(files, [
    {
      file: '/repo/bpf/a.bpf.c',
      lines: { hit: 1, found: 2 },
      functions: { hit: 1, found: 1 },
      branches: { hit: 1, found: 2 },
    },
    {
      file: '/elsewhere/b.ts',
      lines: { hit: 0, found: 10 },
      functions: { hit: 0, found: 2 },
      branches: { hit: 0, found: 0 },
    },
  ]);
  assert.deepEqual(totals(files), {
    file: 'TOTAL',
    lines: { hit: 1, found: 12 },
    functions: { hit: 1, found: 3 },
    branches: { hit: 1, found: 2 },
  });
});

test('lcov paths under the repository become relative, others stay', () => {
  const out = relativiseLcov(LCOV, '/repo');
  assert.match(out, /^SF:bpf\/a\.bpf\.c$/m);
  assert.match(out, /^SF:\/elsewhere\/b\.ts$/m);
});

test('the table has a row per file and a total, with percentages', () => {
  const t = formatTable(summariseLcov(relativiseLcov(LCOV, '/repo/')));
  assert.match(t, /^bpf\/a\.bpf\.c +1\/2 \(50\.0%\) +1\/1 \(100\.0%\) +1\/2 \(50\.0%\)$/m);
  assert.match(t, /^TOTAL +1\/12 \(8\.3%\) +1\/3 \(33\.3%\) +1\/2 \(50\.0%\)$/m);
  assert.match(t, /^\/elsewhere\/b\.ts +0\/10 \(0\.0%\) +0\/2 \(0\.0%\) +0\/0 \(-\)$/m);
});

test('daLines: lines found and hit from the DA records, a line in two records of the same file counted once (hit if either ran)', () => {
  const t =
    'SF:a.h\nDA:1,0\nDA:2,3\nLF:1\nend_of_record\nSF:a.h\nDA:1,2\nend_of_record\nSF:b.h\nDA:1,0\nend_of_record\n';
  assert.deepEqual(daLines(t), { found: 3, hit: 2 });
});
