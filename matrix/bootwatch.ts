/**
 * Is a guest still on its way, or has its boot stalled? A pure decision over what the runner can see of a
 * QEMU attempt: its own stderr, its run state over QMP (`query-status`), whether the guest printed its first
 * marker yet, and whether the file server the guest reads everything from is still there.
 *
 * Why this exists: on this project's Firecracker hosts /dev/kvm opens, yet KVM cannot run the guest. Either
 * QEMU exits at once (`failed to set MSR 0x10a`), or it reports `KVM internal error. Suberror: 1 / emulation
 * failure` and *pauses* the guest (run state `internal-error`) while QEMU itself keeps running — a cell then
 * sat idle until its timeout (40 min in CI). A paused guest never resumes by itself, so any run state other
 * than `running` means the attempt is over.
 */

/** run states after which QEMU goes on by itself: `shutdown` is followed by QEMU's exit (no -no-shutdown) */
const SELF_ENDING_STATES = new Set(['running', 'shutdown']);

/** what QEMU prints when KVM cannot run the guest (accel/kvm/kvm-all.c, target/i386/kvm/kvm.c) */
const KVM_FAILURE = /KVM internal error|emulation failure|KVM: entry failed|kvm run failed|failed to set MSR/;

/**
 * Seconds a KVM attempt may take to print the guest's first marker (`EXECLENS-GUEST: kernel … booted`, the
 * first line of /init) before it is given up for TCG. Measured on this machine kind (2026-12-02, 2 cores,
 * `markerS` in each cell's result.json): TCG reaches the marker in 1.75 s (6.1 cloud amd64, idle) and
 * 3.5–3.75 s (6.12, 7.2) beside a busy guest; a KVM that works is faster than TCG. 30 s is eight times the
 * slowest boot seen, and a wrong give-up costs only a TCG boot. EXECLENS_MATRIX_KVM_BOOT_S overrides it.
 */
export const KVM_BOOT_DEADLINE_S = 30;

/** seconds QEMU has to exit by itself after its file server did */
const FILE_SERVER_GRACE_S = 5;

export interface AttemptObservation {
  /** seconds since QEMU was started */
  elapsedS: number;
  /** the guest printed its first marker */
  markerSeen: boolean;
  /** the last run state QMP reported (null: not known yet) */
  runState: string | null;
  /** QEMU's own stderr so far (not the guest console) */
  qemuStderr: string;
  /** virtiofsd has exited: its code or signal and how many seconds ago; null while it serves */
  fileServerExit: { how: string; agoS: number } | null;
  /** seconds the guest has to print its first marker; null: no deadline (the cell's timeout still applies) */
  bootDeadlineS: number | null;
}

export type AttemptVerdict = { stop: false } | { stop: true; reason: string };

export function judgeAttempt(o: AttemptObservation): AttemptVerdict {
  const kvm = KVM_FAILURE.exec(o.qemuStderr);
  if (kvm) {
    const line = o.qemuStderr
      .split('\n')
      .find((l) => KVM_FAILURE.test(l))!
      .trim();
    return { stop: true, reason: `QEMU: ${line.slice(0, 160)}` };
  }
  if (o.runState !== null && !SELF_ENDING_STATES.has(o.runState))
    return { stop: true, reason: `guest not running: QEMU run state '${o.runState}'` };
  // every file of the guest's root comes from virtiofsd: without it the guest blocks on its next read. It also
  // exits when QEMU closes the connection at power-off, just before QEMU's own exit is seen: allow for that.
  if (o.fileServerExit !== null && o.fileServerExit.agoS > FILE_SERVER_GRACE_S)
    return { stop: true, reason: `virtiofsd exited (${o.fileServerExit.how}) while the guest ran` };
  if (!o.markerSeen && o.bootDeadlineS !== null && o.elapsedS > o.bootDeadlineS)
    return {
      stop: true,
      reason: `no guest output within ${o.bootDeadlineS} s (run state '${o.runState ?? 'unknown'}')`,
    };
  return { stop: false };
}

/** the KVM boot deadline, EXECLENS_MATRIX_KVM_BOOT_S when set */
export function kvmBootDeadline(env: NodeJS.ProcessEnv): number {
  const v = env.EXECLENS_MATRIX_KVM_BOOT_S;
  if (v === undefined || v === '') return KVM_BOOT_DEADLINE_S;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`EXECLENS_MATRIX_KVM_BOOT_S=${v}: expected a positive number of seconds`);
  return n;
}
