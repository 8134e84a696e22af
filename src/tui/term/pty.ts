/**
 * A pseudo-terminal for the traced command (execlens tui). Node has no pty of its own and node-pty cannot be
 * used: it spawns the child itself from JS strings (execlens passes the command's bytes to its native helper
 * on fds 3/4: src/backend/execspec.ts) and offers no extra fds. So: /dev/ptmx opened here, unlocked and sized
 * through libc (koffi, which execlens already ships), the slave's fd handed to the helper as fds 0-2 (it makes
 * it the command's controlling terminal: --ctty), and the master read as a tty stream, as node-pty does.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import koffi from 'koffi';

interface Libc {
  grantpt(fd: number): number;
  unlockpt(fd: number): number;
  ptsnameR(fd: number, buf: Buffer, len: number): number;
  ioctl(fd: number, req: number, ...args: unknown[]): number;
}

let libc: Libc | null = null;
function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    grantpt: l.func('int grantpt(int)'),
    unlockpt: l.func('int unlockpt(int)'),
    ptsnameR: l.func('int ptsname_r(int, _Out_ uint8_t *buf, size_t len)'),
    ioctl: l.func('int ioctl(int, unsigned long, ...)'),
  };
  return libc;
}

/** <asm-generic/ioctls.h>: the same number on x86, arm64 and riscv */
const TIOCSWINSZ = 0x5414;

export class Pty {
  readonly master: number;
  /** the command's end of it: give it to the spawn, then closeSlave() */
  slave: number | null;
  readonly path: string;
  private readonly stream: tty.ReadStream;
  private pendingInput: Buffer[] = [];
  private closed = false;

  constructor(rows: number, cols: number, onData: (b: Buffer) => void, onEnd: () => void) {
    this.master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY);
    const c = lib();
    const name = Buffer.alloc(128);
    if (
      c.grantpt(this.master) !== 0 ||
      c.unlockpt(this.master) !== 0 ||
      c.ptsnameR(this.master, name, name.length) !== 0
    ) {
      closeSync(this.master);
      throw new Error('cannot set up a pseudo-terminal (/dev/ptmx)');
    }
    this.path = name.subarray(0, name.indexOf(0)).toString('latin1');
    this.slave = openSync(this.path, constants.O_RDWR | constants.O_NOCTTY);
    this.resize(rows, cols);
    this.stream = new tty.ReadStream(this.master);
    this.stream.on('data', onData);
    // EIO: every process holding the slave closed it (the command and its children are gone)
    this.stream.on('error', () => onEnd());
    this.stream.on('end', () => onEnd());
  }

  resize(rows: number, cols: number): void {
    const ws = Buffer.alloc(8);
    ws.writeUInt16LE(Math.max(1, rows), 0);
    ws.writeUInt16LE(Math.max(1, cols), 2);
    lib().ioctl(this.master, TIOCSWINSZ, 'uint8_t *', ws);
  }

  closeSlave(): void {
    if (this.slave !== null) closeSync(this.slave);
    this.slave = null;
  }

  /** keystrokes for the command; what the pty cannot take now waits (the master is non-blocking) */
  write(data: Buffer | string): void {
    if (this.closed) return;
    this.pendingInput.push(typeof data === 'string' ? Buffer.from(data) : data);
    this.flushInput();
  }

  private flushInput(): void {
    while (this.pendingInput.length && !this.closed) {
      const b = this.pendingInput[0]!;
      let n: number;
      try {
        n = writeSync(this.master, b);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') setTimeout(() => this.flushInput(), 10);
        else this.pendingInput = [];
        return;
      }
      if (n < b.length) this.pendingInput[0] = b.subarray(n);
      else this.pendingInput.shift();
    }
  }

  /** closing the master hangs the terminal up: its session gets SIGHUP, as when a terminal window closes */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeSlave();
    this.stream.destroy();
  }
}
