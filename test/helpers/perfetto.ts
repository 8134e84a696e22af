/** Read a Perfetto trace back with the same vendored definitions execlens writes it with: tracks, slices, instants. */
import { traceType } from '../../src/output/perfetto/proto.js';

export interface Ann {
  name?: string;
  string_value?: string;
  int_value?: number;
  bool_value?: boolean;
  dict_entries?: Ann[];
  array_values?: Ann[];
}

/** a debug annotation as a plain value: dicts as objects, arrays as arrays (an empty one reads as [], as protobuf keeps no empty list) */
export function annValue(a: Ann): unknown {
  const scalar = a.string_value ?? a.int_value ?? a.bool_value;
  if (scalar !== undefined) return scalar;
  if (a.dict_entries?.length) return Object.fromEntries(a.dict_entries.map((e) => [e.name, annValue(e)]));
  return (a.array_values ?? []).map(annValue);
}

const args = (anns: Ann[] | undefined): Record<string, unknown> =>
  Object.fromEntries((anns ?? []).map((a) => [a.name, annValue(a)]));

export interface Slice {
  track: number;
  name: string;
  begin: number;
  end: number | null;
  args: Record<string, unknown>;
  endArgs: Record<string, unknown>;
}

export interface DecodedTrace {
  tracks: Map<number, { name: string; parent: number | null }>;
  slices: Slice[];
  instants: { track: number; name: string; ts: number; args: Record<string, unknown> }[];
  sequenceIds: Set<number>;
  firstFlags: number;
}

interface Packet {
  timestamp?: number;
  trusted_packet_sequence_id?: number;
  sequence_flags?: number;
  track_descriptor?: { uuid: number; parent_uuid?: number; name?: string };
  track_event?: { type: string; track_uuid: number; name?: string; debug_annotations?: Ann[] };
}

export function decodePerfetto(data: Uint8Array): DecodedTrace {
  const T = traceType();
  const { packet } = T.toObject(T.decode(data), { longs: Number, enums: String, arrays: true }) as { packet: Packet[] };
  const out: DecodedTrace = {
    tracks: new Map(),
    slices: [],
    instants: [],
    sequenceIds: new Set(),
    firstFlags: packet[0]?.sequence_flags ?? 0,
  };
  const open = new Map<number, Slice[]>();
  for (const p of packet) {
    out.sequenceIds.add(p.trusted_packet_sequence_id ?? 0);
    const d = p.track_descriptor;
    if (d) {
      if (out.tracks.has(d.uuid)) throw new Error(`track ${d.uuid} described twice`);
      out.tracks.set(d.uuid, { name: d.name ?? '', parent: d.parent_uuid ?? null });
    }
    const e = p.track_event;
    if (!e) continue;
    const ts = p.timestamp!;
    const stack = open.get(e.track_uuid) ?? [];
    open.set(e.track_uuid, stack);
    if (e.type === 'TYPE_SLICE_BEGIN') {
      const s: Slice = {
        track: e.track_uuid,
        name: e.name!,
        begin: ts,
        end: null,
        args: args(e.debug_annotations),
        endArgs: {},
      };
      stack.push(s);
      out.slices.push(s);
    } else if (e.type === 'TYPE_SLICE_END') {
      const s = stack.pop();
      if (!s) throw new Error(`a slice end on track ${e.track_uuid} without a begin`);
      s.end = ts;
      s.endArgs = args(e.debug_annotations);
    } else if (e.type === 'TYPE_INSTANT') {
      out.instants.push({ track: e.track_uuid, name: e.name!, ts, args: args(e.debug_annotations) });
    }
  }
  return out;
}
