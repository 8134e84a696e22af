/**
 * What a cell needs on the host before its guest boots: the BPF object of its
 * clang, the Debian kernel package, another arch's userspace, QEMU for riscv64,
 * the initramfs. Every command runs as an awaited child, not execFileSync: a
 * preparation that takes minutes (a debootstrap, an apt install, a clang build)
 * must not freeze the runner while other cells' guests run (their consoles
 * unread, their timeouts late). Preparations run one at a time (`serially`):
 * two cells never build the same object or run apt at once.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEBIAN_ARCH, FOREIGN, KERNELS, NODE_ARCH, type Arch } from './cells.js';
import { log } from './log.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE = process.env.EXECLENS_MATRIX_CACHE ?? join(homedir(), '.cache/execlens-matrix');

/**
 * Run a command; resolves with its stdout. Its stderr goes to ours (progress of
 * long steps) unless `quiet`; a non-zero exit rejects with the command and its
 * status.
 */
export function run(
  cmd: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', o.quiet ? 'ignore' : 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${cmd} ${args.join(' ')}: ${signal ? `killed by ${signal}` : `exit ${code}`}`));
    });
  });
}

let queue: Promise<unknown> = Promise.resolve();
/** Run `fn` after every preparation queued before it has ended (failed ones too). */
export function serially<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/** mtime of the newest file under bpf/: a cached object older than it is rebuilt */
function newestBpfSource(): number {
  const walk = (d: string): number[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [statSync(join(d, e.name)).mtimeMs],
    );
  return Math.max(...walk(join(ROOT, 'bpf')));
}

/** BPF object built by one clang version (installed from apt on demand) */
export async function bpfObject(clang: number, arch: Arch): Promise<string> {
  const out = join(ROOT, `build/matrix/clang${clang}-${arch}`);
  const obj = join(out, 'execlens.bpf.o');
  if (existsSync(obj) && statSync(obj).mtimeMs >= newestBpfSource()) return obj;
  const bin = `clang-${clang}`;
  await aptEnsure([bin, `llvm-${clang}`]);
  const btf = arch === 'x86_64' ? {} : { VMLINUX_BTF: await foreignBtf(arch) };
  await run(join(ROOT, 'scripts/build-bpf.sh'), [], {
    env: { ...process.env, CLANG: bin, ARCH: arch, OUT: out, ...btf },
  });
  return obj;
}

/**
 * The coverage build of a cell's BPF object (scripts/build-bpf-coverage.sh with the cell's clang, against its
 * arch's BTF): the loadable object, the mapping object llvm-cov reads and the counters' layout.
 */
export async function bpfCoverageObject(
  clang: number,
  arch: Arch,
): Promise<{ obj: string; mapping: string; layout: string; llvmBin: string }> {
  const out = join(ROOT, `build/matrix/clang${clang}-${arch}-cov`);
  const files = {
    obj: join(out, 'execlens.bpf.o'),
    mapping: join(out, 'execlens.bpf.covmap.o'),
    layout: join(out, 'execlens.bpf.o.cov.json'),
    llvmBin: `/usr/lib/llvm-${clang}/bin`,
  };
  if (existsSync(files.layout) && statSync(files.layout).mtimeMs >= newestBpfSource()) return files;
  await aptEnsure([`clang-${clang}`, `llvm-${clang}`]);
  const btf = arch === 'x86_64' ? {} : { VMLINUX_BTF: await foreignBtf(arch) };
  await run(join(ROOT, 'scripts/build-bpf-coverage.sh'), [], {
    env: { ...process.env, CLANG: `clang-${clang}`, ARCH: arch, OUT: out, LLVM_BIN: files.llvmBin, ...btf },
  });
  return files;
}

/** Debian kernel package of a cell: [unpacked dir, kernel release, vmlinuz] */
export async function kernelPackage(suite: string, arch: Arch, flavour: string): Promise<[string, string, string]> {
  return (await run(join(ROOT, 'scripts/matrix-kernel.sh'), [suite, DEBIAN_ARCH[arch], flavour, CACHE]))
    .trim()
    .split(' ') as [string, string, string];
}

/** apt-get install what is missing (the matrix's own tools: cross compilers, debootstrap, QEMU) */
async function aptEnsure(pkgs: string[]): Promise<void> {
  const missing = pkgs.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (!missing.length) return;
  log(`installing ${missing.join(' ')} from apt`);
  await run('apt-get', ['install', '-y', '-qq', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    quiet: true,
  });
}

/** QEMU 10 (bookworm-backports, unpacked in the cache): the system's 7.2 has no RVA23 CPU */
export async function riscvQemu(): Promise<{ binary: string; bios: string }> {
  const [binary, bios] = (await run(join(ROOT, 'scripts/matrix-qemu.sh'), [CACHE])).trim().split(' ') as [
    string,
    string,
  ];
  return { binary, bios };
}

/** BTF of another arch's kernel, cut out of its boot image: vmlinux.h of that arch's BPF object */
export async function foreignBtf(arch: Arch): Promise<string> {
  const f = FOREIGN[arch];
  const k = KERNELS.find((d) => d.label === f?.btfKernel);
  if (!f || !k?.flavour[arch]) throw new Error(`no BTF source kernel for ${arch}`);
  const [, kver, vmlinuz] = await kernelPackage(k.suite, arch, k.flavour[arch]!);
  const out = join(ROOT, `build/matrix/btf-${kver}.btf`);
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out)) await run('python3', [join(ROOT, 'scripts/carve-btf.py'), vmlinuz, out]);
  return out;
}

/**
 * What a guest of another arch runs the checkout with: its own Debian root (Node,
 * libbpf, bpftool), koffi's native package for that arch (beside the host's in
 * node_modules: koffi looks for it there by process.arch), and the ptrace helper
 * cross-built for it. Returns the root and the helper.
 */
export async function foreignUserspace(arch: Arch): Promise<{ root: string; helper: string }> {
  const f = FOREIGN[arch];
  if (!f) throw new Error(`no userspace defined for ${arch} guests`);
  await aptEnsure([
    'debootstrap',
    'qemu-user-static',
    'binfmt-support',
    `gcc-${f.gnu}`,
    `libc6-dev-${DEBIAN_ARCH[arch]}-cross`,
    ...(arch === 'arm64' ? ['qemu-system-arm'] : []),
  ]);
  log(`${arch}: Debian ${f.suite} root (built once, cached)`);
  const root = (await run(join(ROOT, 'scripts/matrix-rootfs.sh'), [f.suite, DEBIAN_ARCH[arch], CACHE])).trim();
  mkdirSync(join(root, ROOT), { recursive: true }); // the checkout's mount point inside that root
  const koffiVersion = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules/koffi/package.json'), 'utf8')) as { version: string }
  ).version;
  const pkg = `@koromix/koffi-linux-${NODE_ARCH[arch]}`;
  const pkgDir = join(ROOT, 'node_modules', pkg);
  const have = existsSync(join(pkgDir, 'package.json'))
    ? (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version
    : null;
  if (have !== koffiVersion) {
    log(`${arch}: fetching ${pkg}@${koffiVersion} from the npm registry`);
    const dl = join(CACHE, 'npm');
    mkdirSync(dl, { recursive: true });
    const tgz = (await run('npm', ['pack', '--silent', `${pkg}@${koffiVersion}`, '--pack-destination', dl]))
      .trim()
      .split('\n')
      .pop()!;
    mkdirSync(pkgDir, { recursive: true });
    await run('tar', ['-xzf', join(dl, tgz), '-C', pkgDir, '--strip-components=1']);
  }
  const outDir = join(ROOT, `build/matrix/native-${arch}`);
  const helper = join(outDir, 'execlens-ptrace');
  const src = join(ROOT, 'native/ptrace/execlens-ptrace.c');
  if (!existsSync(helper) || statSync(helper).mtimeMs < statSync(src).mtimeMs) {
    await run(join(ROOT, 'scripts/build-native.sh'), [], { env: { ...process.env, CC: f.cc, OUT: outDir } });
  }
  // the compat test's 32-bit program (AArch32 on arm64)
  if (arch === 'arm64') await run(join(ROOT, 'scripts/fetch-compat-busybox.sh'), ['armhf']);
  return { root, helper };
}

/** the guest's initramfs: busybox, the kernel's virtiofs modules, its config, /init and the payload */
export async function initramfs(
  kdir: string,
  kver: string,
  payload: string,
  out: string,
  foreign: { root: string } | null,
): Promise<void> {
  await run(join(ROOT, 'scripts/matrix-initramfs.sh'), [
    kdir,
    kver,
    payload,
    out,
    ...(foreign ? [foreign.root, ROOT] : []),
  ]);
}
