/** Boot one kernel under QEMU (TCG; KVM when usable) with the host root over virtiofs; capture the console. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from './cells.js';
import { judgeAttempt, kvmBootDeadline } from './bootwatch.js';
import { RunStateWatch } from './qmp.js';

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

export interface AttemptRecord {
  accel: Accel;
  /** what the attempt stood for, when it was not simply the accelerator ("simulated KVM stall: paused") */
  label?: string;
  seconds: number;
  /** seconds from QEMU's start to the guest's first marker (null: never printed) — what the boot deadline bounds */
  markerS: number | null;
  exitCode: number | null;
  /** why the runner stopped it (boot watch), null when QEMU ended by itself or at the cell's timeout */
  stopped: string | null;
}

export interface BootResult {
  console: string;
  timedOut: boolean;
  exitCode: number | null;
  seconds: number;
  /** the accelerator the guest ran under, and why that one */
  accel: Accel;
  accelReason: string;
  /** the final attempt was stopped by the boot watch (a paused guest, a lost file server): why */
  stalled: string | null;
  /** every QEMU started for this cell, in order */
  attempts: AttemptRecord[];
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
export function chooseAccel(
  arch: Arch,
  hostArch: string,
  env: NodeJS.ProcessEnv,
  kvmOpens: () => boolean,
): { accel: Accel; reason: string; forced: boolean } {
  const want = (env.EXECLENS_MATRIX_ACCEL ?? 'auto').toLowerCase();
  if (want === 'kvm' || want === 'tcg') return { accel: want, reason: `EXECLENS_MATRIX_ACCEL=${want}`, forced: true };
  if (want !== 'auto') throw new Error(`EXECLENS_MATRIX_ACCEL=${want}: expected kvm, tcg or auto`);
  const native =
    (arch === 'x86_64' && hostArch === 'x64') ||
    (arch === 'arm64' && hostArch === 'arm64') ||
    (arch === 'riscv64' && hostArch === 'riscv64');
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

/** One QEMU start: the accelerator, whether a stall may fall back to TCG, and what the boot watch allows. */
interface Attempt {
  accel: Accel;
  /** a KVM attempt the runner chose itself (not forced): when it fails or stalls, the cell boots under TCG */
  fallible: boolean;
  bootDeadlineS: number | null;
  extraArgs: string[];
  label?: string;
}

/**
 * EXECLENS_MATRIX_SIMULATE_KVM_STALL=paused|spinning: the first attempt stands in for a KVM that cannot run
 * the guest, without needing such a machine (the root test of the fallback): `paused` starts QEMU with -S,
 * the run state a KVM internal error leaves (QEMU up, the guest never running); `spinning` boots firmware
 * that loops forever without output (x86_64), which only the boot deadline catches.
 */
function simulatedStall(o: BootOptions, env: NodeJS.ProcessEnv): Attempt | null {
  const how = env.EXECLENS_MATRIX_SIMULATE_KVM_STALL;
  if (!how) return null;
  const deadline = kvmBootDeadline(env);
  if (how === 'paused')
    return {
      accel: 'tcg',
      fallible: true,
      bootDeadlineS: deadline,
      extraArgs: ['-S'],
      label: 'simulated KVM stall: paused',
    };
  if (how === 'spinning' && o.arch === 'x86_64') {
    // the reset vector (the image's last 16 bytes) and every other even offset hold `jmp $` (EB FE)
    const bios = join(o.workDir, 'spin-bios.bin');
    writeFileSync(bios, Buffer.alloc(64 * 1024, Buffer.from([0xeb, 0xfe])));
    return {
      accel: 'tcg',
      fallible: true,
      bootDeadlineS: deadline,
      extraArgs: ['-bios', bios],
      label: 'simulated KVM stall: spinning',
    };
  }
  throw new Error(`EXECLENS_MATRIX_SIMULATE_KVM_STALL=${how}: expected paused, or spinning (x86_64 guests)`);
}

export async function boot(o: BootOptions): Promise<BootResult> {
  const first = chooseAccel(o.arch, process.arch, process.env, kvmOpens);
  const sim = simulatedStall(o, process.env);
  const attempts: Attempt[] = sim
    ? [sim, { accel: 'tcg', fallible: false, bootDeadlineS: null, extraArgs: [] }]
    : first.accel === 'kvm' && !first.forced
      ? [
          { accel: 'kvm', fallible: true, bootDeadlineS: kvmBootDeadline(process.env), extraArgs: [] },
          { accel: 'tcg', fallible: false, bootDeadlineS: null, extraArgs: [] },
        ]
      : [{ accel: first.accel, fallible: false, bootDeadlineS: null, extraArgs: [] }];
  const done: AttemptRecord[] = [];
  let preface = '';
  let reason = sim ? 'EXECLENS_MATRIX_SIMULATE_KVM_STALL' : first.reason;
  for (const at of attempts) {
    const n = done.length + 1;
    // earlier attempts keep their own console: what KVM printed before it stalled
    const r = await bootWith(
      at === attempts[attempts.length - 1]
        ? o
        : { ...o, consoleLog: o.consoleLog.replace(/\.log$/, `-attempt${n}.log`) },
      at,
      n,
      preface,
    );
    done.push({
      accel: at.accel,
      ...(at.label ? { label: at.label } : {}),
      seconds: r.seconds,
      markerS: r.markerS,
      exitCode: r.exitCode,
      stopped: r.stalled,
    });
    const last = at === attempts[attempts.length - 1];
    // a fallible (KVM) attempt failed: QEMU exited before the guest printed anything of ours, or the boot
    // watch stopped it (paused, internal error, no output within the deadline)
    const exitedEarly = !r.timedOut && !r.stalled && !r.console.includes('EXECLENS-GUEST:');
    if (last || !at.fallible || !(r.stalled || exitedEarly)) {
      return {
        console: r.console,
        timedOut: r.timedOut,
        exitCode: r.exitCode,
        seconds: r.seconds,
        accel: r.accel,
        stalled: r.stalled,
        accelReason: reason,
        attempts: done,
      };
    }
    const why =
      r.stalled ??
      (
        r.console
          .slice(preface.length)
          .split('\n')
          .find((l) => l.trim()) ?? `qemu exited ${r.exitCode}`
      ).trim();
    const what = at.label ?? 'KVM';
    preface += `execlens-matrix: ${what} did not run the guest (${why}; stopped after ${r.seconds.toFixed(1)} s); booting again under TCG\n`;
    reason = `${what} failed after ${r.seconds.toFixed(1)} s: ${why.slice(0, 160)}`;
  }
  throw new Error('unreachable: the last attempt returns');
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

type AttemptResult = Omit<BootResult, 'accelReason' | 'attempts'> & { markerS: number | null };

async function bootWith(o: BootOptions, at: Attempt, n: number, preface: string): Promise<AttemptResult> {
  const { accel } = at;
  // a socket per attempt: the file server of a failed KVM attempt, still exiting under load, removes its
  // socket path on exit, and took the TCG attempt's socket with it when they shared one
  const sock = join(o.workDir, `vfs-${n}-${accel}.sock`);
  const qmpSock = join(o.workDir, `qmp-${n}-${accel}.sock`);
  rmSync(sock, { force: true });
  rmSync(qmpSock, { force: true });
  const vfsBin = VIRTIOFSD.find((p) => existsSync(p));
  if (!vfsBin) throw new Error('virtiofsd not found (apt-get install qemu-system-common)');
  // the host root, read-only in the guest (virtiofsd itself has no ro option)
  const vfs = track(
    spawn(vfsBin, [`--socket-path=${sock}`, '-o', 'source=/', '-o', 'sandbox=chroot', '-o', 'cache=always'], {
      stdio: 'ignore',
    }),
  );
  let vfsExit: { how: string; at: number } | null = null;
  vfs.once('exit', (code, sig) => (vfsExit = { how: sig ?? `exit ${code}`, at: Date.now() }));
  try {
    // seconds, not milliseconds, when every core runs a TCG guest
    for (let i = 0; i < 600 && !existsSync(sock) && vfs.exitCode === null; i++)
      await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(sock))
      throw new Error(
        `virtiofsd did not create ${sock} within 30 s${vfs.exitCode !== null ? ` (it exited ${vfs.exitCode})` : ''}`,
      );
    const x86 = o.arch === 'x86_64';
    const qemu =
      o.qemu?.binary ??
      (x86 ? 'qemu-system-x86_64' : o.arch === 'arm64' ? 'qemu-system-aarch64' : 'qemu-system-riscv64');
    const args = [
      ...(x86
        ? ['-M', 'pc', '-cpu', 'max']
        : o.arch === 'arm64'
          ? ['-M', 'virt', '-cpu', 'max']
          : ['-M', 'virt', '-cpu', RISCV_CPU]),
      ...(o.qemu?.bios ? ['-bios', o.qemu.bios] : []),
      '-accel',
      accel,
      '-smp',
      '1',
      '-m',
      `${o.memMiB}`,
      '-object',
      `memory-backend-memfd,id=mem,size=${o.memMiB}M,share=on`,
      '-numa',
      'node,memdev=mem',
      '-chardev',
      `socket,id=vfs,path=${sock}`,
      '-device',
      'vhost-user-fs-pci,queue-size=1024,chardev=vfs,tag=hostroot',
      '-kernel',
      o.kernel,
      '-initrd',
      o.initrd,
      '-append',
      `console=${o.arch === 'arm64' ? 'ttyAMA0' : 'ttyS0'} panic=-1 loglevel=4 ${o.extraAppend ?? ''}`.trim(),
      '-nographic',
      '-no-reboot',
      '-nodefaults',
      '-serial',
      'stdio',
      // the run state, from QEMU itself: a KVM internal error pauses the guest and leaves QEMU running
      '-qmp',
      `unix:${qmpSock},server=on,wait=off`,
      ...at.extraArgs,
    ];
    const t0 = Date.now();
    const logStream = createWriteStream(o.consoleLog);
    let out = preface;
    let qemuStderr = '';
    logStream.write(preface);
    const onData = (d: Buffer) => {
      out += d.toString('latin1');
      logStream.write(d);
    };
    const q = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(q);
    q.stdout.on('data', onData);
    q.stderr.on('data', (d: Buffer) => {
      qemuStderr += d.toString('latin1');
      onData(d);
    });
    let timedOut = false;
    let stalled: string | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      q.kill('SIGKILL');
    }, o.timeoutS * 1000);
    const runState = new RunStateWatch(qmpSock);
    let markerS: number | null = null;
    const watch = setInterval(() => {
      if (markerS === null && out.includes('EXECLENS-GUEST:', preface.length)) markerS = (Date.now() - t0) / 1000;
      const v = judgeAttempt({
        elapsedS: (Date.now() - t0) / 1000,
        markerSeen: markerS !== null,
        runState: runState.state,
        qemuStderr,
        fileServerExit: vfsExit && { how: vfsExit.how, agoS: (Date.now() - vfsExit.at) / 1000 },
        bootDeadlineS: at.bootDeadlineS,
      });
      if (!v.stop || stalled) return;
      stalled = v.reason;
      onData(Buffer.from(`\nexeclens-matrix: stopping QEMU: ${v.reason}\n`));
      q.kill('SIGKILL');
    }, 250);
    const exitCode = await new Promise<number | null>((res) => {
      q.on('exit', (c) => res(c));
      // not installed, or not startable: a boot failure with the reason on the console, not a crash
      q.on('error', (e) => {
        onData(Buffer.from(`execlens-matrix: cannot start ${qemu}: ${e.message}\n`));
        res(null);
      });
    });
    clearTimeout(timer);
    clearInterval(watch);
    runState.close();
    await new Promise((res) => logStream.end(res));
    return { console: out, timedOut, exitCode, seconds: (Date.now() - t0) / 1000, markerS, accel, stalled };
  } finally {
    rmSync(qmpSock, { force: true });
    if (vfs.exitCode === null && vfs.signalCode === null) {
      const gone = new Promise((r) => vfs.once('exit', r));
      vfs.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(sock, { force: true });
  }
}
