/**
 * Thin FFI binding to the system libbpf (libbpf.so.1, Debian's libbpf1) and
 * the few libc calls the ring-buffer reader needs, through koffi.
 * Only what the loader uses is bound; pointers are bigint (koffi 3).
 */
import koffi, { type LibraryHandle } from 'koffi';

export type Ptr = bigint;

interface LibbpfFns {
  setPrint(fn: Ptr | null): Ptr | null;
  objectOpenFile(path: string, opts: Ptr | null): Ptr | null;
  objectLoad(obj: Ptr): number;
  objectClose(obj: Ptr): void;
  objectNextProgram(obj: Ptr, prev: Ptr | null): Ptr | null;
  objectFindMap(obj: Ptr, name: string): Ptr | null;
  programName(prog: Ptr): string;
  programSetAutoload(prog: Ptr, on: boolean): number;
  programSetAttachTarget(prog: Ptr, fd: number, fn: string | null): number;
  programSetLogLevel(prog: Ptr, level: number): number;
  programSetLogBuf(prog: Ptr, buf: Buffer, size: number): number;
  programFd(prog: Ptr): number;
  programAttach(prog: Ptr): Ptr | null;
  programAttachKprobe(prog: Ptr, ret: boolean, fn: string): Ptr | null;
  programAttachTracepoint(prog: Ptr, category: string, name: string): Ptr | null;
  linkDestroy(link: Ptr): number;
  /** the same call on a worker thread: detaching waits for an RCU grace period, so links go in parallel */
  linkDestroyAsync(link: Ptr): Promise<number>;
  mapFd(map: Ptr): number;
  mapDelete(fd: number, key: Buffer): number;
  mapSetMaxEntries(map: Ptr, n: number): number;
  mapInitialValue(map: Ptr, size: Buffer): Ptr | null;
  mapLookup(fd: number, key: Buffer, value: Buffer): number;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: bigint): number;
  progGetInfo(fd: number, info: Buffer, len: Buffer): number;
  mmap(addr: Ptr | null, len: number, prot: number, flags: number, fd: number, off: number): Ptr;
  munmap(addr: Ptr, len: number): number;
  strerror(err: number): string;
  clockGettime(clk: number, ts: Buffer): number;
}

let cached: LibbpfFns | undefined;
let printHandler: ((level: number, msg: string) => void) | undefined;
let printCb: Ptr | undefined;

export class LibbpfMissing extends Error {}

/** Load libbpf once; throws LibbpfMissing with an actionable message. */
export function libbpf(): LibbpfFns {
  if (cached) return cached;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libbpf.so.1');
  } catch (e) {
    throw new LibbpfMissing(`cannot load libbpf.so.1 (${(e as Error).message}); install it: apt-get install libbpf1`);
  }
  const libc = koffi.load('libc.so.6');
  const f = (sig: string) => lib.func(sig);
  const linkDestroy = f('int bpf_link__destroy(void *link)');
  const bind = {
    setPrint: f('void *libbpf_set_print(void *fn)'),
    objectOpenFile: f('void *bpf_object__open_file(const char *path, void *opts)'),
    objectLoad: f('int bpf_object__load(void *obj)'),
    objectClose: f('void bpf_object__close(void *obj)'),
    objectNextProgram: f('void *bpf_object__next_program(void *obj, void *prev)'),
    objectFindMap: f('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    programName: f('const char *bpf_program__name(void *prog)'),
    programSetAutoload: f('int bpf_program__set_autoload(void *prog, bool autoload)'),
    programSetAttachTarget: f('int bpf_program__set_attach_target(void *prog, int fd, const char *fn)'),
    programSetLogLevel: f('int bpf_program__set_log_level(void *prog, uint32_t level)'),
    programSetLogBuf: f('int bpf_program__set_log_buf(void *prog, void *buf, size_t size)'),
    programFd: f('int bpf_program__fd(void *prog)'),
    programAttach: f('void *bpf_program__attach(void *prog)'),
    programAttachKprobe: f('void *bpf_program__attach_kprobe(void *prog, bool retprobe, const char *fn)'),
    programAttachTracepoint: f(
      'void *bpf_program__attach_tracepoint(void *prog, const char *category, const char *name)',
    ),
    linkDestroy,
    linkDestroyAsync: (link: Ptr) =>
      new Promise<number>((res, rej) => {
        linkDestroy.async(link, (err: unknown, r: number) =>
          err ? rej(err instanceof Error ? err : new Error(String(err))) : res(r),
        );
      }),
    mapFd: f('int bpf_map__fd(void *map)'),
    mapSetMaxEntries: f('int bpf_map__set_max_entries(void *map, uint32_t n)'),
    mapInitialValue: f('void *bpf_map__initial_value(void *map, void *psize)'),
    mapLookup: f('int bpf_map_lookup_elem(int fd, void *key, void *value)'),
    mapUpdate: f('int bpf_map_update_elem(int fd, void *key, void *value, uint64_t flags)'),
    mapDelete: f('int bpf_map_delete_elem(int fd, void *key)'),
    progGetInfo: f('int bpf_obj_get_info_by_fd(int fd, void *info, void *len)'),
    mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)'),
    munmap: libc.func('int munmap(void *addr, size_t len)'),
    strerror: libc.func('const char *strerror(int errnum)'),
    clockGettime: libc.func('int clock_gettime(int clk, _Out_ uint8_t *ts)'),
  };
  const vsnprintf = libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t n, const char *fmt, void *ap)');
  const proto = koffi.proto('int execlens_libbpf_print_fn(int level, const char *fmt, void *ap)');
  const buf = Buffer.alloc(16 << 20); // libbpf prints a whole verifier log in one call
  printCb = koffi.register((level: number, fmt: string, ap: Ptr) => {
    const n = vsnprintf(buf, buf.length, fmt, ap) as number;
    const msg = buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))).toString('utf8');
    printHandler?.(level, msg);
    return 0;
  }, koffi.pointer(proto));
  bind.setPrint(printCb);
  cached = bind as unknown as LibbpfFns;
  return cached;
}

/** Route libbpf's log lines (level 0 warn, 1 info, 2 debug) to a handler. */
export function onLibbpfPrint(handler: ((level: number, msg: string) => void) | undefined): void {
  printHandler = handler;
}

export function errno(): number {
  return koffi.errno();
}

export function view(ptr: Ptr, len: number): ArrayBuffer {
  return koffi.view(ptr, len);
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_FAILED = 0xffffffffffffffffn;

const CLOCK_BOOTTIME = 7;

/** CLOCK_BOOTTIME in ns: the clock of bpf_ktime_get_boot_ns() */
export function bootTimeNs(): bigint {
  const ts = Buffer.alloc(16);
  libbpf().clockGettime(CLOCK_BOOTTIME, ts);
  return ts.readBigInt64LE(0) * 1000000000n + ts.readBigInt64LE(8);
}
