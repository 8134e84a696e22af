/** collect's formats and their default files: light, so `--help` and flag errors load nothing else. */
export const COLLECT_FORMATS = ['json', 'jsonl', 'perfetto', 'compile-commands'] as const;
export type CollectFormat = (typeof COLLECT_FORMATS)[number];

const DEFAULT_FILES: Record<CollectFormat, string> = {
  json: 'execlens-trace.json',
  jsonl: 'execlens-trace.jsonl',
  perfetto: 'execlens-trace.pftrace',
  'compile-commands': 'compile_commands.json',
};

/** the file collect writes without -o */
export function defaultFile(format: CollectFormat): string {
  return DEFAULT_FILES[format];
}
