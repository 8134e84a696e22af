/** Boot one kernel under QEMU (TCG; KVM when usable) with the host root over virtiofs; capture the console. */
import { spawn, spawnSync } from 'node:child_process';
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
}

export interface BootResult {
  console: string;
  timedOut: boolean;
  exitCode: number | null;
  seconds: number;
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  // /dev/kvm can exist and still refuse: ask qemu
  const r = spawnSync('qemu-system-x86_64', ['-accel', 'kvm', '-M', 'none', '-display', 'none', '-S', '-no-user-config', '-nodefaults', '-daemonize', '-pidfile', '/dev/null'], { timeout: 5000 });
  return r.status === 0;
}

const VIRTIOFSD = ['/usr/lib/qemu/virtiofsd', '/usr/libexec/virtiofsd'];

export async function boot(o: BootOptions): Promise<BootResult> {
  const sock = join(o.workDir, 'vfs.sock');
  rmSync(sock, { force: true });
  const vfsBin = VIRTIOFSD.find((p) => existsSync(p));
  if (!vfsBin) throw new Error('virtiofsd not found (apt-get install qemu-system-common)');
  // the host root, read-only in the guest (virtiofsd itself has no ro option)
  const vfs = spawn(vfsBin, [`--socket-path=${sock}`, '-o', 'source=/', '-o', 'sandbox=chroot', '-o', 'cache=auto'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  const x86 = o.arch === 'x86_64';
  const qemu = x86 ? 'qemu-system-x86_64' : o.arch === 'arm64' ? 'qemu-system-aarch64' : 'qemu-system-riscv64';
  const accel = x86 && process.arch === 'x64' && kvmUsable() ? 'kvm' : 'tcg';
  const args = [
    ...(x86 ? ['-M', 'pc', '-cpu', 'max'] : o.arch === 'arm64' ? ['-M', 'virt', '-cpu', 'max'] : ['-M', 'virt']),
    '-accel', accel,
    '-smp', '1',
    '-m', `${o.memMiB}`,
    '-object', `memory-backend-memfd,id=mem,size=${o.memMiB}M,share=on`,
    '-numa', 'node,memdev=mem',
    '-chardev', `socket,id=vfs,path=${sock}`,
    '-device', 'vhost-user-fs-pci,queue-size=1024,chardev=vfs,tag=hostroot',
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    '-append', `console=${x86 ? 'ttyS0' : 'ttyAMA0'} panic=-1 loglevel=4 ${o.extraAppend ?? ''}`.trim(),
    '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
  ];
  const t0 = Date.now();
  const q = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logStream = createWriteStream(o.consoleLog);
  const onData = (d: Buffer) => {
    out += d.toString('latin1');
    logStream.write(d);
  };
  q.stdout.on('data', onData);
  q.stderr.on('data', onData);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    q.kill('SIGKILL');
  }, o.timeoutS * 1000);
  const exitCode = await new Promise<number | null>((res) => q.on('exit', (c) => res(c)));
  clearTimeout(timer);
  vfs.kill('SIGTERM');
  await new Promise((res) => logStream.end(res));
  return { console: out, timedOut, exitCode, seconds: (Date.now() - t0) / 1000 };
}
