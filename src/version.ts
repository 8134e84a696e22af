/** execlens's version: the one in package.json, never repeated; and what `--version` says about the build. */
import { existsSync, readFileSync } from 'node:fs';
import { JSON_SCHEMA_VERSION } from './output/format.js';
import { bpfBuildInfoFile, bpfObjectFile, packageFile } from './paths.js';

export const VERSION: string = (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string })
  .version;

/** what scripts/build-bpf.sh records beside the object */
export interface BpfBuildInfo {
  clang: string;
  arch: string;
  btf: string;
}

export function bpfBuildInfo(file: string = bpfBuildInfoFile()): BpfBuildInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BpfBuildInfo;
  } catch {
    return null;
  }
}

/** `execlens --version`: the version, the BPF object's build, the JSON schema of --json */
export function versionText(info: BpfBuildInfo | null = bpfBuildInfo(), object: string = bpfObjectFile()): string {
  const bpf = info
    ? `${info.arch}, built by ${info.clang} (${object})`
    : existsSync(object)
      ? `${object} (no build record beside it)`
      : `missing: ${object}`;
  return [
    `execlens ${VERSION}`,
    `BPF object: ${bpf}`,
    `JSON schema: ${JSON_SCHEMA_VERSION} (schema/exec-event.v${JSON_SCHEMA_VERSION}.json)`,
  ].join('\n');
}
