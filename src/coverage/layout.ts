/**
 * Where each function's counters sit in the loadable object's counter section: the ELF symbols of the counter
 * arrays (llvm-objdump -h -t), joined with the IR's per-function data (ir.ts).
 */
import type { ProfFunction } from './ir.js';
import { LAYOUT_FORMAT, ProfileError, type Layout } from './profile.js';

export interface ObjdumpTables {
  /** section name -> size */
  sections: Map<string, number>;
  /** symbol name -> section, offset, size */
  symbols: Map<string, { section: string; offset: number; size: number }>;
}

/** `llvm-objdump -h -t` text: "Idx Name Size VMA Type" rows and "VALUE FLAGS SECTION\tSIZE NAME" rows */
export function parseObjdump(text: string): ObjdumpTables {
  const sections = new Map<string, number>();
  const symbols: ObjdumpTables['symbols'] = new Map();
  for (const line of text.split('\n')) {
    const s = /^\s*\d+ (\S+)\s+([0-9a-f]+) [0-9a-f]+/.exec(line);
    if (s) {
      sections.set(s[1]!, parseInt(s[2]!, 16));
      continue;
    }
    const y = /^([0-9a-f]{8,16}) .{7} (\S+)\t([0-9a-f]+) (.+)$/.exec(line);
    if (y) symbols.set(y[4]!, { section: y[2]!, offset: parseInt(y[1]!, 16), size: parseInt(y[3]!, 16) });
  }
  return { sections, symbols };
}

export function buildLayout(functions: ProfFunction[], t: ObjdumpTables, section: string, objectSha256: string): Layout {
  const sectionSize = t.sections.get(section);
  if (sectionSize === undefined) throw new ProfileError(`the object has no ${section} section`);
  const out = functions.map((f) => {
    const s = t.symbols.get(f.symbol);
    if (!s) throw new ProfileError(`no symbol ${f.symbol} in the object`);
    if (s.section !== section) throw new ProfileError(`${f.symbol} is in ${s.section}, not ${section}`);
    if (s.size !== 8 * f.counters) throw new ProfileError(`${f.symbol}: ${s.size} bytes for ${f.counters} counters`);
    return { ...f, offset: s.offset };
  });
  return { format: LAYOUT_FORMAT, objectSha256, section, sectionSize, functions: out };
}
