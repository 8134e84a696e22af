/**
 * node dist/src/coverage/cli.js split IR DIR | layout OBJ FUNCTIONS OUT | report [options]
 * The coverage tooling's entry point (scripts/build-bpf-coverage.sh, scripts/coverage.sh); docs/coverage.md.
 */
import { Command } from 'commander';
import { layoutStep, splitStep } from './build.js';
import { IrError } from './ir.js';
import { ProfileError } from './profile.js';
import { ToolError } from './llvm.js';
import { report } from './report.js';

const program = new Command('execlens-coverage').showHelpAfterError();
program
  .command('split <ir> <dir>')
  .description('split instrumented IR into the loadable and the mapping module, and list the functions')
  .action((ir: string, dir: string) => {
    const r = splitStep(ir, dir);
    process.stdout.write(`coverage: ${r.functions} functions, ${r.counters} counters\n`);
  });
program
  .command('layout <object> <functions> <out>')
  .description("write the counter layout of the loadable object (offsets in .data.profc, the object's hash)")
  .action((obj: string, fns: string, out: string) => layoutStep(obj, fns, out));
program
  .command('report')
  .description('counter dumps + V8 coverage -> profdata, lcov, HTML and a text summary')
  .requiredOption('--dumps <dir>', 'directory of BPF counter dumps (EXECLENS_COVERAGE)')
  .requiredOption('--layout <file>', 'the layout of the coverage object (build/bpf-cov/execlens.bpf.o.cov.json)')
  .requiredOption('--mapping <object>', 'the object with the coverage mapping (build/bpf-cov/execlens.bpf.covmap.o)')
  .option('--v8 <dir>', 'NODE_V8_COVERAGE directory of the test runs (userspace coverage of src/)')
  .option('--out <dir>', 'output directory', 'build/coverage')
  .action((o: { dumps: string; layout: string; mapping: string; v8?: string; out: string }) => {
    process.stdout.write(report(o));
  });

try {
  program.parse(process.argv);
} catch (e) {
  if (e instanceof IrError || e instanceof ProfileError || e instanceof ToolError) {
    process.stderr.write(`coverage: ${e.message}\n`);
    process.exit(65);
  }
  throw e;
}
