/**
 * The few QMP calls the runner needs: learn a guest's run state from QEMU itself (`query-status`, and the
 * STOP / GUEST_PANICKED events that announce a change) instead of guessing from a silent console.
 * Protocol: docs/interop/qmp-spec.rst in QEMU — a greeting, `qmp_capabilities`, then one JSON object a line.
 */
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';

export class RunStateWatch {
  /** the last run state QEMU reported; null until it answered */
  state: string | null = null;
  private sock: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  /**
   * Connect to QEMU's `-qmp unix:PATH,server=on,wait=off` socket (retried while QEMU starts) and ask for the
   * run state every `everyMs`, and at once on an event that changes it.
   */
  constructor(
    private readonly path: string,
    private readonly everyMs = 500,
  ) {
    void this.open(Date.now() + 20_000);
  }

  private async open(until: number): Promise<void> {
    while (!this.closed && !existsSync(this.path) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (this.closed || !existsSync(this.path)) return;
    const s = connect(this.path);
    this.sock = s;
    let buf = '';
    s.setEncoding('utf8');
    s.on('error', () => {}); // QEMU exiting closes it; the exit itself is what the runner acts on
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.onMessage(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }

  private send(cmd: string): void {
    if (this.sock && !this.sock.destroyed) this.sock.write(JSON.stringify({ execute: cmd }) + '\n');
  }

  private onMessage(line: string): void {
    let m: { QMP?: unknown; event?: string; return?: { status?: string } };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      return;
    }
    if (m.QMP) {
      this.send('qmp_capabilities');
      this.send('query-status');
      this.timer = setInterval(() => this.send('query-status'), this.everyMs);
    } else if (m.event === 'STOP' || m.event === 'GUEST_PANICKED' || m.event === 'RESUME') {
      this.send('query-status');
    } else if (typeof m.return?.status === 'string') {
      this.state = m.return.status;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.sock?.destroy();
  }
}
