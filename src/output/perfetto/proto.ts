/**
 * Perfetto's own message definitions (third_party/perfetto, vendored .proto files), loaded at run time
 * with protobufjs: the encoder (and the tests' decoder) come straight from the files, nothing generated to
 * keep in step with them. Loading the 30 files takes ~150 ms here, once per `collect -F perfetto`; static
 * code (pbjs) would save that at the price of a generated file to keep in step and a second CLI dependency.
 */
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { packageFile } from '../../paths.js';

export const PERFETTO_DIR = packageFile('third_party/perfetto');
export const SUBSET_PROTO = 'execlens/trace_subset.proto';

let root: protobuf.Root | undefined;

/** the definitions, with Perfetto's import paths ("protos/perfetto/...") resolved inside the vendored tree */
export function perfettoRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string) => (target.startsWith('/') ? target : join(PERFETTO_DIR, target));
  r.loadSync(SUBSET_PROTO, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

export function traceType(): protobuf.Type {
  return perfettoRoot().lookupType('perfetto.protos.Trace');
}
