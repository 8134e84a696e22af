/**
 * Exit codes. `execlens log -- CMD` exits with CMD's code (128+n if a signal
 * killed it); execlens's own failures use these (documented in the README).
 */
export const EXIT = {
  OK: 0,
  /** bad flags or arguments */
  USAGE: 64,
  /** BPF could not be loaded or attached by any candidate */
  BPF_REFUSED: 69,
  /** internal error */
  SOFTWARE: 70,
  /** not root and no CAP_SYS_ADMIN (CAP_BPF + CAP_PERFMON alone do not attach the tracepoints) */
  NO_PERMISSION: 77,
  /** the output file (-o) cannot be created or written (sysexits EX_CANTCREAT) */
  CANT_CREATE: 73,
  /** kernel lacks something required (BTF, ring buffer, libbpf) */
  KERNEL_UNSUPPORTED: 78,
  /** the command exists but is not executable */
  NOT_EXECUTABLE: 126,
  /** the command was not found */
  NOT_FOUND: 127,
} as const;

/** An error that ends execlens with one line on stderr and a distinct exit code. */
export class ExeclensError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
