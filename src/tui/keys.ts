/**
 * The keys of execlens tui, one table: the app dispatches from it and the help view (and docs/tui.md) show it,
 * so what is documented is what works. A key is named as readline names it: a character, or `up`, `pageup`,
 * `return`, `escape`..., with `C-` for Ctrl.
 */
import type { Key } from 'node:readline';

export type Mode = 'list' | 'details' | 'copy' | 'help' | 'prompt' | 'stops';

export interface Binding {
  keys: string[];
  /** how the help shows the keys */
  label: string;
  action: string;
  help: string;
}

export const BINDINGS: Record<Mode, Binding[]> = {
  list: [
    { keys: ['up', 'k'], label: '↑ k', action: 'up', help: 'previous exec' },
    { keys: ['down', 'j'], label: '↓ j', action: 'down', help: 'next exec' },
    { keys: ['pageup', 'C-b'], label: 'PgUp C-b', action: 'pageUp', help: 'a page up' },
    { keys: ['pagedown', 'C-f'], label: 'PgDn C-f', action: 'pageDown', help: 'a page down' },
    { keys: ['home', 'g'], label: 'Home g', action: 'home', help: 'first exec' },
    { keys: ['end', 'G'], label: 'End G', action: 'end', help: 'last exec, and follow new ones' },
    { keys: ['F'], label: 'F', action: 'follow', help: 'follow mode on / off' },
    { keys: ['return'], label: 'Enter', action: 'details', help: 'details of the exec' },
    { keys: ['p'], label: 'p', action: 'parent', help: 'go to the parent exec' },
    { keys: ['t'], label: 't', action: 'tree', help: 'process tree / flat list' },
    { keys: ['left', 'h'], label: '← h', action: 'collapse', help: 'tree: hide the children' },
    { keys: ['right', 'l'], label: '→ l', action: 'expand', help: 'tree: show the children' },
    { keys: ['space'], label: 'Space', action: 'toggle', help: 'tree: hide / show the children' },
    { keys: ['/'], label: '/', action: 'search', help: 'search (text or regex)' },
    { keys: ['n'], label: 'n', action: 'next', help: 'next match' },
    { keys: ['N'], label: 'N', action: 'prev', help: 'previous match' },
    { keys: ['&'], label: '&', action: 'filter', help: 'filter: show only matching execs (empty: all)' },
    { keys: ['x'], label: 'x', action: 'failed', help: 'show only failures (exec error or exit ≠ 0) / all' },
    { keys: ['escape'], label: 'Esc', action: 'clear', help: 'clear the search and the filter' },
    { keys: ['c'], label: 'c', action: 'copy', help: 'copy menu' },
    { keys: ['b'], label: 'b', action: 'stops', help: 'processes stopped at a breakpoint (ptrace, -b)' },
    { keys: ['C-s'], label: 'C-s', action: 'focus', help: "type into the command's pane / back" },
    { keys: ['+'], label: '+', action: 'grow', help: 'a larger pane' },
    { keys: ['-'], label: '-', action: 'shrink', help: 'a smaller pane' },
    { keys: ['?'], label: '?', action: 'help', help: 'this help' },
    {
      keys: ['q', 'C-c'],
      label: 'q C-c',
      action: 'quit',
      help: 'quit (a running command is hung up, as when a terminal closes)',
    },
  ],
  details: [
    { keys: ['up', 'k'], label: '↑ k', action: 'up', help: 'scroll up' },
    { keys: ['down', 'j'], label: '↓ j', action: 'down', help: 'scroll down' },
    { keys: ['pageup', 'C-b'], label: 'PgUp', action: 'pageUp', help: 'a page up' },
    { keys: ['pagedown', 'C-f', 'space'], label: 'PgDn Space', action: 'pageDown', help: 'a page down' },
    { keys: ['p'], label: 'p', action: 'parent', help: 'details of the parent exec' },
    { keys: ['c'], label: 'c', action: 'copy', help: 'copy menu' },
    { keys: ['escape', 'q', 'return'], label: 'Esc q Enter', action: 'back', help: 'back to the list' },
  ],
  copy: [{ keys: ['escape', 'q'], label: 'Esc', action: 'back', help: 'cancel' }],
  help: [
    { keys: ['up', 'k'], label: '↑ k', action: 'up', help: 'scroll up' },
    { keys: ['down', 'j'], label: '↓ j', action: 'down', help: 'scroll down' },
    { keys: ['pageup', 'C-b'], label: 'PgUp', action: 'pageUp', help: 'a page up' },
    { keys: ['pagedown', 'C-f', 'space'], label: 'PgDn Space', action: 'pageDown', help: 'a page down' },
    { keys: ['escape', 'q', '?', 'return'], label: 'Esc q ?', action: 'back', help: 'back' },
  ],
  prompt: [
    { keys: ['return'], label: 'Enter', action: 'apply', help: 'search / filter' },
    { keys: ['escape'], label: 'Esc', action: 'cancel', help: 'cancel' },
    { keys: ['C-r'], label: 'C-r', action: 'regex', help: 'regex / plain text' },
    { keys: ['C-t'], label: 'C-t', action: 'case', help: 'case-sensitive / not' },
    { keys: ['backspace'], label: 'Backspace', action: 'erase', help: 'erase a character' },
  ],
  stops: [
    { keys: ['up', 'k'], label: '↑ k', action: 'up', help: 'previous stopped process' },
    { keys: ['down', 'j'], label: '↓ j', action: 'down', help: 'next stopped process' },
    { keys: ['r'], label: 'r', action: 'resume', help: 'resume it (traced)' },
    { keys: ['d'], label: 'd', action: 'detach', help: 'detach it: it runs on untraced' },
    { keys: ['D'], label: 'D', action: 'debug', help: 'detach it stopped and run the --debugger template in the pane' },
    { keys: ['R'], label: 'R', action: 'resumeAll', help: 'resume every stopped process' },
    { keys: ['escape', 'q', 'b'], label: 'Esc q b', action: 'back', help: 'back to the list' },
  ],
};

/** readline's key as a table key: `C-x` for Ctrl, the name for special keys, else the character */
export function keyId(str: string | undefined, key: Key | undefined): string {
  if (key?.ctrl && key.name) return `C-${key.name}`;
  if (key?.name && key.name.length > 1) return key.name;
  return str ?? key?.sequence ?? '';
}

export function actionFor(mode: Mode, id: string): string | null {
  for (const b of BINDINGS[mode]) if (b.keys.includes(id)) return b.action;
  return null;
}

/** the key list as plain lines: the help view, and docs/tui.md */
export function helpLines(): string[] {
  const out: string[] = [];
  const titles: Record<Mode, string> = {
    list: 'The exec list',
    details: 'Details',
    copy: 'Copy menu',
    help: 'Help',
    prompt: 'Search / filter prompt',
    stops: 'Breakpoint stops (b)',
  };
  for (const mode of ['list', 'details', 'prompt', 'stops'] as Mode[]) {
    out.push(titles[mode]);
    for (const b of BINDINGS[mode]) out.push(`  ${b.label.padEnd(12)} ${b.help}`);
    out.push('');
  }
  out.push('Pane focus (C-s): every key goes to the command, except C-s, which returns to the list.');
  out.push('Copy menu (c): the letter of the text to copy; Esc cancels.');
  return out;
}
