/** Signal numbers to names (Node's own table), for how a process ended. */
import os from 'node:os';

const BY_NUMBER = new Map<number, string>(Object.entries(os.constants.signals).map(([name, n]) => [n, name]));

export function signalName(n: number): string {
  return BY_NUMBER.get(n) ?? `signal ${n}`;
}
