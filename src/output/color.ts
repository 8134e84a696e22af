/** ANSI colours, only when wanted: --color=always, or auto on a TTY without NO_COLOR. */
export type ColorMode = 'auto' | 'always' | 'never';

export function useColor(mode: ColorMode, isTty: boolean, env: NodeJS.ProcessEnv): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTty;
}

export interface Palette {
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
}

const wrap = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const id = (s: string) => s;

export function palette(on: boolean): Palette {
  if (!on) return { dim: id, bold: id, red: id, green: id, yellow: id, cyan: id, magenta: id };
  return {
    dim: wrap('2'),
    bold: wrap('1'),
    red: wrap('31'),
    green: wrap('32'),
    yellow: wrap('33'),
    cyan: wrap('36'),
    magenta: wrap('35'),
  };
}
