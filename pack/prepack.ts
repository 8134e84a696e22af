/**
 * `npm pack`'s prepack (after `npm run build`): everything the package ships that a checkout builds on
 * demand, so that installing it downloads and compiles nothing:
 *  - per arch (node's names: x64, arm64, riscv64), in build/arch/<arch>/: the CO-RE BPF object with its
 *    build record, and the ptrace helper linked statically (it then runs on any libc). Another arch's BPF
 *    object differs by its __TARGET_ARCH_* macro and its vmlinux.h, made from that arch's kernel BTF: cut
 *    out of a Debian kernel package fetched by apt (once, cached), as the kernel matrix does.
 *  - build/man/execlens.1 and build/completion/{execlens.bash,_execlens,execlens.fish}, generated from
 *    the commander definition.
 * A missing tool is one line naming the apt package, and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_ARCH, type Arch } from '../matrix/cells.js';
import { foreignBtf, ROOT, run } from '../matrix/prepare.js';
import { buildProgram } from '../src/cli/main.js';
import { describeCommand } from '../src/cli/clispec.js';
import { completionScript } from '../src/cli/completion.js';
import { manPage } from '../src/cli/manpage.js';
import { VERSION } from '../src/version.js';

/** the C compiler for each arch's helper, and the Debian packages that bring it */
const CROSS: Record<Arch, { cc: string; apt: string }> = {
  x86_64: { cc: 'x86_64-linux-gnu-gcc', apt: 'gcc libc6-dev' },
  arm64: { cc: 'aarch64-linux-gnu-gcc', apt: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross' },
  riscv64: { cc: 'riscv64-linux-gnu-gcc', apt: 'gcc-riscv64-linux-gnu libc6-dev-riscv64-cross' },
};
const ARCHES = Object.keys(CROSS) as Arch[];
const HOST: Arch | undefined = ARCHES.find((a) => NODE_ARCH[a] === process.arch);

function need(tool: string, apt: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0) return;
  process.stderr.write(`prepack: ${tool} not found: apt-get install ${apt}\n`);
  process.exit(2);
}

const say = (s: string): boolean => process.stderr.write(`prepack: ${s}\n`);

/** the BPF object for `arch` and its build record, into `dest` */
async function bpfObject(arch: Arch, dest: string): Promise<void> {
  const out = join(ROOT, `build/pack/bpf-${arch}`);
  // the host's own kernel BTF for its arch; another arch's from its Debian kernel (the matrix's source)
  const btf = arch === HOST ? {} : { VMLINUX_BTF: await foreignBtf(arch) };
  await run(join(ROOT, 'scripts/build-bpf.sh'), [], { env: { ...process.env, ARCH: arch, OUT: out, ...btf } });
  for (const f of ['execlens.bpf.o', 'execlens.bpf.json']) copyFileSync(join(out, f), join(dest, f));
}

async function helper(arch: Arch, dest: string): Promise<void> {
  const out = join(ROOT, `build/pack/native-${arch}`);
  await run(join(ROOT, 'scripts/build-native.sh'), [], {
    env: { ...process.env, CC: CROSS[arch].cc, OUT: out, NATIVE_LDFLAGS: '-static -s' },
  });
  copyFileSync(join(out, 'execlens-ptrace'), join(dest, 'execlens-ptrace'));
}

function generated(): void {
  const spec = describeCommand(buildProgram(() => undefined, ['node', 'execlens']));
  // SOURCE_DATE_EPOCH (reproducible builds) or today
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = (Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date()).toISOString().slice(0, 10);
  mkdirSync(join(ROOT, 'build/man'), { recursive: true });
  writeFileSync(join(ROOT, 'build/man/execlens.1'), manPage(spec, { version: VERSION, date }));
  mkdirSync(join(ROOT, 'build/completion'), { recursive: true });
  writeFileSync(join(ROOT, 'build/completion/execlens.bash'), completionScript('bash', spec));
  writeFileSync(join(ROOT, 'build/completion/_execlens'), completionScript('zsh', spec));
  writeFileSync(join(ROOT, 'build/completion/execlens.fish'), completionScript('fish', spec));
}

async function main(): Promise<void> {
  need('clang', 'clang llvm');
  need('bpftool', 'bpftool');
  for (const a of ARCHES) need(CROSS[a].cc, CROSS[a].apt);
  for (const arch of ARCHES) {
    const dest = join(ROOT, `build/arch/${NODE_ARCH[arch]}`);
    mkdirSync(dest, { recursive: true });
    await bpfObject(arch, dest);
    await helper(arch, dest);
    say(`${NODE_ARCH[arch]}: ${dest}`);
  }
  generated();
  say('man page and completions in build/man, build/completion');
}

main().catch((e: unknown) => {
  process.stderr.write(`prepack: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
