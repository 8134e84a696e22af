/** The coverage build's two steps that are not compiler runs (scripts/build-bpf-coverage.sh calls them). */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTER_SECTION, splitInstrumentedIr, type ProfFunction } from './ir.js';
import { buildLayout, parseObjdump } from './layout.js';
import { runTool } from './llvm.js';

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** IR -> DIR/execlens.bpf.load.ll, DIR/execlens.bpf.map.ll, DIR/functions.json */
export function splitStep(irPath: string, outDir: string): { functions: number; counters: number } {
  const s = splitInstrumentedIr(readFileSync(irPath, 'utf8'));
  writeAtomic(join(outDir, 'execlens.bpf.load.ll'), s.loadable);
  writeAtomic(join(outDir, 'execlens.bpf.map.ll'), s.mapping);
  writeAtomic(join(outDir, 'functions.json'), JSON.stringify(s.functions, null, 1) + '\n');
  return { functions: s.functions.length, counters: s.functions.reduce((a, f) => a + f.counters, 0) };
}

/** the loadable object + functions.json -> OBJ.cov.json (offsets, section size, the object's hash) */
export function layoutStep(objectPath: string, functionsPath: string, outPath: string): void {
  const functions = JSON.parse(readFileSync(functionsPath, 'utf8')) as ProfFunction[];
  const tables = parseObjdump(runTool('llvm-objdump', ['-h', '-t', objectPath]));
  const sha = createHash('sha256').update(readFileSync(objectPath)).digest('hex');
  writeAtomic(outPath, JSON.stringify(buildLayout(functions, tables, COUNTER_SECTION, sha), null, 1) + '\n');
}
