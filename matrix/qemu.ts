/** Boot one kernel under QEMU (TCG; KVM when usable) with the host root over virtiofs; capture the console. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from './cells.js';

export interface BootOptions {
  arch: Arch;
  kernel: string;
  initrd: string;
  memMiB: number;
  timeoutS: number;
  consoleLog: string;
  workDir: string;
  extraAppend?: string;
  /** a QEMU binary other than the system's (riscv64: QEMU 10 from backports), and its firmware */
  qemu?: { binary: string; bios: string | null };
}

export type Accel = 'kvm' | 'tcg';

export interface BootResult {
  console: string;
  timedOut: boolean;
  exitCode: number | null;
  seconds: number;
  /** the accelerator the guest ran under, and why that one */
  accel: Accel;
  accelReason: string;
}

/**
 * Which accelerator to try first. EXECLENS_MATRIX_ACCEL=kvm|tcg forces one;
 * otherwise (auto) KVM when the guest has the host's arch and /dev/kvm can be
 * opened read-write, else TCG. Whether KVM then really runs a guest is only
 * known by booting (a /dev/kvm that opens can still refuse the guest's MSRs, as
 * on this project's Firecracker hosts): boot() falls back to TCG and says so.
 * No "qemu -daemonize" probe: QEMU unlinks its -pidfile on exit, and a probe
 * with -pidfile /dev/null once deleted the host's /dev/null.
 */
export function chooseAccel(arch: Arch, hostArch: string, env: NodeJS.ProcessEnv, kvmOpens: () => boolean): { accel: Accel; reason: string; forced: boolean } {
  const want = (env.EXECLENS_MATRIX_ACCEL ?? 'auto').toLowerCase();
  if (want === 'kvm' || want === 'tcg') return { accel: want, reason: `EXECLENS_MATRIX_ACCEL=${want}`, forced: true };
  if (want !== 'auto') throw new Error(`EXECLENS_MATRIX_ACCEL=${want}: expected kvm, tcg or auto`);
  const native = (arch === 'x86_64' && hostArch === 'x64') || (arch === 'arm64' && hostArch === 'arm64') || (arch === 'riscv64' && hostArch === 'riscv64');
  if (!native) return { accel: 'tcg', reason: `guest ${arch} on a ${hostArch} host`, forced: false };
  if (!kvmOpens()) return { accel: 'tcg', reason: '/dev/kvm cannot be opened read-write', forced: false };
  return { accel: 'kvm', reason: '/dev/kvm opens', forced: false };
}

function kvmOpens(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function boot(o: BootOptions): Promise<BootResult> {
  const first = chooseAccel(o.arch, process.arch, process.env, kvmOpens);
  const r = await bootWith(o, first.accel);
  // KVM that opened but could not run the guest: QEMU exits before the kernel prints anything of ours
  if (first.accel === 'kvm' && !first.forced && !r.timedOut && !r.console.includes('EXECLENS-GUEST:')) {
    const why = r.console.split('\n').find((l) => l.trim()) ?? `qemu exited ${r.exitCode}`;
    const note = `execlens-matrix: KVM did not run the guest (${why.trim()}); booting again under TCG\n`;
    const again = await bootWith(o, 'tcg', note);
    return { ...again, accelReason: `KVM failed: ${why.trim().slice(0, 160)}` };
  }
  return { ...r, accelReason: first.reason };
}

/**
 * riscv64 guests: Debian's riscv64 userspace and Node's native addons for it
 * (koffi) are built for the RVA23 profile; QEMU 7.2's CPUs lack it (SIGILL),
 * so the matrix brings QEMU 10 (scripts/matrix-qemu.sh) and asks for rva23s64.
 */
const RISCV_CPU = process.env.EXECLENS_MATRIX_RISCV_CPU ?? 'rva23s64';

const VIRTIOFSD = ['/usr/lib/qemu/virtiofsd', '/usr/libexec/virtiofsd'];

/** guests and file servers running now: a signal to the runner must not leave them behind */
const live = new Set<ChildProcess>();
function track(c: ChildProcess): ChildProcess {
  live.add(c);
  c.once('exit', () => live.delete(c));
  c.once('error', () => live.delete(c));
  return c;
}

/** Kill every guest and virtiofsd this process started (the runner got SIGINT/SIGTERM/SIGHUP). */
export function killGuests(): number {
  const n = live.size;
  for (const c of live) c.kill('SIGKILL');
  live.clear();
  return n;
}

async function bootWith(o: BootOptions, accel: Accel, preface = ''): Promise<Omit<BootResult, 'accelReason'>> {
  // a socket per attempt: the file server of a failed KVM attempt, still exiting under load, removes its
  // socket path on exit, and took the TCG attempt's socket with it when they shared one
  const sock = join(o.workDir, `vfs-${accel}.sock`);
  rmSync(sock, { force: true });
  const vfsBin = VIRTIOFSD.find((p) => existsSync(p));
  if (!vfsBin) throw new Error('virtiofsd not found (apt-get install qemu-system-common)');
  // the host root, read-only in the guest (virtiofsd itself has no ro option)
  const vfs = track(spawn(vfsBin, [`--socket-path=${sock}`, '-o', 'source=/', '-o', 'sandbox=chroot', '-o', 'cache=always'], { stdio: 'ignore' }));
  try {
    // seconds, not milliseconds, when every core runs a TCG guest
    for (let i = 0; i < 600 && !existsSync(sock) && vfs.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(sock)) throw new Error(`virtiofsd did not create ${sock} within 30 s${vfs.exitCode !== null ? ` (it exited ${vfs.exitCode})` : ''}`);
    const x86 = o.arch === 'x86_64';
    const qemu = o.qemu?.binary ?? (x86 ? 'qemu-system-x86_64' : o.arch === 'arm64' ? 'qemu-system-aarch64' : 'qemu-system-riscv64');
    const args = [
      ...(x86 ? ['-M', 'pc', '-cpu', 'max'] : o.arch === 'arm64' ? ['-M', 'virt', '-cpu', 'max'] : ['-M', 'virt', '-cpu', RISCV_CPU]),
      ...(o.qemu?.bios ? ['-bios', o.qemu.bios] : []),
      '-accel', accel,
      '-smp', '1',
      '-m', `${o.memMiB}`,
      '-object', `memory-backend-memfd,id=mem,size=${o.memMiB}M,share=on`,
      '-numa', 'node,memdev=mem',
      '-chardev', `socket,id=vfs,path=${sock}`,
      '-device', 'vhost-user-fs-pci,queue-size=1024,chardev=vfs,tag=hostroot',
      '-kernel', o.kernel,
      '-initrd', o.initrd,
      '-append', `console=${o.arch === 'arm64' ? 'ttyAMA0' : 'ttyS0'} panic=-1 loglevel=4 ${o.extraAppend ?? ''}`.trim(),
      '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
    ];
    const t0 = Date.now();
    const logStream = createWriteStream(o.consoleLog);
    let out = preface;
    logStream.write(preface);
    const onData = (d: Buffer) => {
      out += d.toString('latin1');
      logStream.write(d);
    };
    const q = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(q);
    q.stdout.on('data', onData);
    q.stderr.on('data', onData);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      q.kill('SIGKILL');
    }, o.timeoutS * 1000);
    const exitCode = await new Promise<number | null>((res) => {
      q.on('exit', (c) => res(c));
      // not installed, or not startable: a boot failure with the reason on the console, not a crash
      q.on('error', (e) => {
        onData(Buffer.from(`execlens-matrix: cannot start ${qemu}: ${e.message}\n`));
        res(null);
      });
    });
    clearTimeout(timer);
    await new Promise((res) => logStream.end(res));
    return { console: out, timedOut, exitCode, seconds: (Date.now() - t0) / 1000, accel };
  } finally {
    if (vfs.exitCode === null && vfs.signalCode === null) {
      const gone = new Promise((r) => vfs.once('exit', r));
      vfs.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
  }
}
