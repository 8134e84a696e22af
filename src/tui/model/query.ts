/** Filter and search: text or a regular expression, case-sensitive or not, over a row's searchable text. */

export interface Query {
  text: string;
  regex: boolean;
  caseSensitive: boolean;
}

export type Matcher = (s: string) => boolean;

export type Compiled = { ok: true; match: Matcher } | { ok: false; error: string };

/** the test for one query; a regex that does not compile is an error to show, not an exception */
export function compileQuery(q: Query): Compiled {
  if (q.regex) {
    try {
      const re = new RegExp(q.text, q.caseSensitive ? '' : 'i');
      return { ok: true, match: (s) => re.test(s) };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }
  if (q.caseSensitive) return { ok: true, match: (s) => s.includes(q.text) };
  const needle = q.text.toLowerCase();
  return { ok: true, match: (s) => s.toLowerCase().includes(needle) };
}

/** how the prompt shows a query: /text/ for a regex, "text" for plain text; [Aa] when case matters */
export function describeQuery(q: Query): string {
  const body = q.regex ? `/${q.text}/` : `"${q.text}"`;
  return `${body}${q.caseSensitive ? ' [Aa]' : ''}`;
}
