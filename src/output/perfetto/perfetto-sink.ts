/**
 * collect -F perfetto: a Perfetto trace (Trace of TracePackets, Perfetto's own .proto files through
 * protobufjs: ./proto.ts). The layout:
 *   - a root track named after the run; under it a track per process, nested as the process tree
 *     (TrackDescriptor.parent_uuid: a child's track sits under its parent's);
 *   - on a process's track a slice per program image, from its exec to its next exec or its exit; the
 *     exit's end event carries the exit status; a forked process runs its parent's image until it execs,
 *     shown as a slice named after that image, marked forked;
 *   - a failed exec as an instant; every exec's argv, filename, cwd, env diff, fds, creds and result as
 *     debug annotations;
 *   - an instant "summary" on the root track at the end, with the run's counts.
 * A track's descriptor is written once its name is known (at the process's first exec, or its end), so
 * tracks read "PID program". Timestamps are the backend's clock (eBPF: CLOCK_BOOTTIME, Perfetto's default
 * trace clock; ptrace: CLOCK_MONOTONIC, written as it is). Packets are written as they come, batched per
 * flush: each batch is a Trace message whose packets a reader concatenates with the others'.
 */
import type { Type } from 'protobufjs';
import type { RawExit, RawFork } from '../../events/types.js';
import type { Summary } from '../../pipeline/summary.js';
import { statusText, waitStatus } from '../lifecycle.js';
import { errnoName } from '../errno.js';
import { lossy } from '../quote.js';
import type { ExecItem, Sink } from '../sink.js';
import type { Writer } from '../writer.js';
import { bool, execAnnotations, int, str, type Annotation } from './annotations.js';
import { traceType } from './proto.js';

/** TrackEvent.Type, TracePacket.SequenceFlags, TrackDescriptor enums (track_event.proto, trace_packet.proto) */
const SLICE_BEGIN = 1;
const SLICE_END = 2;
const INSTANT = 3;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const CHRONOLOGICAL = 2;
const SIBLING_MERGE_BEHAVIOR_NONE = 2;

/** the writer's sequence: every packet execlens writes is on it */
export const SEQUENCE_ID = 1;
export const ROOT_UUID = 1;

interface Proc {
  uuid: number;
  parentUuid: number;
  pid: number;
  /** the name of the image it runs (its last successful exec's, or its parent's when forked) */
  image: string | null;
  /** a slice is open on its track */
  open: boolean;
  described: boolean;
}

type Packet = Record<string, unknown>;

function baseName(b: Buffer | null): string | null {
  if (!b || b.length === 0) return null;
  const s = lossy(b);
  return s.slice(s.lastIndexOf('/') + 1) || s;
}

export class PerfettoSink implements Sink {
  private readonly trace: Type = traceType();
  private readonly procs = new Map<number, Proc>();
  private nextUuid = ROOT_UUID + 1;
  private packets: Packet[] = [];
  private items = 0;
  private first = true;
  private lastTs = 0;

  constructor(
    private readonly writer: Writer,
    runName: string,
    startNs: bigint,
  ) {
    this.lastTs = Number(startNs);
    this.push({ track_descriptor: { uuid: ROOT_UUID, name: runName, child_ordering: CHRONOLOGICAL } });
  }

  private push(p: Packet): void {
    p.trusted_packet_sequence_id = SEQUENCE_ID;
    if (this.first) p.sequence_flags = SEQ_INCREMENTAL_STATE_CLEARED;
    this.first = false;
    this.packets.push(p);
  }

  private event(ts: bigint | number, track: number, ev: Record<string, unknown>): void {
    const t = Number(ts);
    if (t > this.lastTs) this.lastTs = t;
    this.push({ timestamp: t, track_event: { track_uuid: track, ...ev } });
  }

  private proc(pid: number, ppid: number): Proc {
    let p = this.procs.get(pid);
    if (!p) {
      const parentUuid = this.procs.get(ppid)?.uuid ?? ROOT_UUID;
      p = { uuid: this.nextUuid++, parentUuid, pid, image: null, open: false, described: false };
      this.procs.set(pid, p);
    }
    return p;
  }

  private describe(p: Proc): void {
    if (p.described) return;
    p.described = true;
    this.push({
      track_descriptor: {
        uuid: p.uuid,
        parent_uuid: p.parentUuid,
        name: p.image ? `${p.pid} ${p.image}` : String(p.pid),
        child_ordering: CHRONOLOGICAL,
        sibling_merge_behavior: SIBLING_MERGE_BEHAVIOR_NONE,
      },
    });
  }

  private end(p: Proc, ts: bigint | number, annotations: Annotation[] = []): void {
    if (!p.open) return;
    p.open = false;
    this.event(ts, p.uuid, { type: SLICE_END, debug_annotations: annotations });
  }

  fork(f: RawFork): void {
    const parent = this.procs.get(f.parentPid);
    const child = this.proc(f.childPid, f.parentPid);
    this.items++;
    if (!parent?.image) return;
    child.image = parent.image;
    child.open = true;
    const forked = [bool('forked', true), int('pid', f.childPid), int('ppid', f.parentPid)];
    this.event(f.tsNs, child.uuid, { type: SLICE_BEGIN, name: parent.image, debug_annotations: forked });
  }

  exec(x: ExecItem): void {
    const { ev } = x;
    const p = this.proc(ev.pid, ev.ppid);
    const name = baseName(ev.filename) ?? (lossy(ev.comm) || '?');
    this.items++;
    if (ev.ret !== 0) {
      const failed = `exec failed: ${errnoName(ev.ret)} ${name}`;
      this.event(ev.tsNs, p.uuid, { type: INSTANT, name: failed, debug_annotations: execAnnotations(x) });
      return;
    }
    this.end(p, ev.tsNs, [str('replaced_by', name)]);
    p.image = name;
    this.describe(p);
    p.open = true;
    this.event(ev.tsNs, p.uuid, { type: SLICE_BEGIN, name, debug_annotations: execAnnotations(x) });
  }

  exit(x: RawExit): void {
    const p = this.procs.get(x.pid);
    this.items++;
    if (!p) return;
    const s = waitStatus(x.exitCode);
    const status: Annotation[] = [str('status', statusText(s))];
    status.push(s.signal === null ? int('exit_code', s.code!) : str('exit_signal', s.signal));
    if (s.core) status.push(bool('core_dumped', true));
    this.end(p, x.tsNs, status);
    this.describe(p);
    this.procs.delete(x.pid);
  }

  summary(s: Summary, stoppedBy: string | null): void {
    // processes still running when the trace ended (system-wide, Ctrl-C): their slices end with the trace
    for (const p of this.procs.values()) {
      this.end(p, this.lastTs, [bool('still_running', true)]);
      this.describe(p);
    }
    this.event(this.lastTs, ROOT_UUID, {
      type: INSTANT,
      name: 'summary',
      debug_annotations: [
        int('execs', s.execs),
        // a plan that sees no failed exec (--successful-only on eBPF) says so instead of a count of 0
        s.failedTraced ? int('failed', s.failed) : str('failed', 'not traced'),
        int('processes', s.processes),
        int('lost_records', s.lostRecords),
        str('plan', s.plan),
        ...(stoppedBy ? [str('stopped_by', stoppedBy)] : []),
        ...(s.exitCode !== null ? [int('exit_code', s.exitCode)] : []),
        ...(s.exitSignal ? [str('exit_signal', s.exitSignal)] : []),
        // execs the filters kept out: their images are not shown, so the image before one seems to run on
        ...Object.entries(s.filteredOut ?? {}).map(([k, v]) => int(`filtered_out.${k}`, v)),
      ],
    });
    this.flush();
  }

  flush(): void {
    if (!this.packets.length) return;
    const bytes = this.trace.encode(this.trace.fromObject({ packet: this.packets })).finish();
    this.writer.write(bytes, this.items);
    this.packets = [];
    this.items = 0;
  }
}
