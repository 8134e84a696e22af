/**
 * POSIX-shell quoting of raw bytes so a printed argv pastes back exactly.
 * Plain words stay bare, printable UTF-8 goes in '...', anything else
 * (control characters, quotes mixed with them, bytes that are not UTF-8) uses
 * bash/zsh/ksh $'...' with \xHH escapes: lossless, never dropped.
 */
import * as nodeBuffer from 'node:buffer';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Node's own check (18.14+, 19.4+): no string made, no exception thrown for a bad byte */
const nativeIsUtf8 = (nodeBuffer as { isUtf8?: (b: Uint8Array) => boolean }).isUtf8;

function decoderAccepts(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** ASCII (the common case) needs no decoder: a byte loop answers */
export function isUtf8(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return nativeIsUtf8 ? nativeIsUtf8(b) : decoderAccepts(b);
  return true;
}

/** a UTF-8 byte order mark at the start, which the TextDecoder drops (its ignoreBOM is off) */
function startsWithBom(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}

/** bytes that may stay bare: the SAFE set, as a table for a byte loop */
const SAFE_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-')
  SAFE_BYTE[c.charCodeAt(0)] = 1;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function shellQuote(arg: Uint8Array | string): string {
  const b = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
  if (b.length === 0) return "''";
  // one pass over the bytes: plain words (the common case) and ASCII need no UTF-8 decoder
  let safe = true;
  let high = false;
  let ctl = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (SAFE_BYTE[c] === 0) {
      safe = false;
      if (c >= 0x80) high = true;
      else if (c < 0x20 || c === 0x7f) ctl = true;
    }
  }
  if (safe) return asBuffer(b).toString('latin1');
  // a control character is one byte below 0x20 or 0x7f in UTF-8 too (multi-byte sequences are all >= 0x80)
  if (ctl) return dollarQuote(b);
  if (!high) return singleQuote(asBuffer(b).toString('latin1'));
  if (!isUtf8(b)) return dollarQuote(b);
  // the decoder this used (and the output it made) drops a leading BOM; toString keeps it
  return singleQuote(startsWithBom(b) ? utf8.decode(b) : asBuffer(b).toString());
}

function singleQuote(s: string): string {
  return s.includes("'") ? `'${s.replace(/'/g, `'\\''`)}'` : `'${s}'`;
}

function dollarQuote(b: Uint8Array): string {
  let out = "$'";
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const seq = c >= 0x80 ? utf8SeqLen(b, i) : 1;
    if (c >= 0x80 && seq > 1) {
      out += Buffer.from(b.subarray(i, i + seq)).toString('utf8');
      i += seq;
      continue;
    }
    switch (c) {
      case 0x5c:
        out += '\\\\';
        break;
      case 0x27:
        out += "\\'";
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0d:
        out += '\\r';
        break;
      default:
        out += c < 0x20 || c >= 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
    }
    i++;
  }
  return out + "'";
}

/** length of a valid UTF-8 sequence at i, or 0 */
function utf8SeqLen(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n === 0 || i + n > b.length) return 0;
  return isUtf8(b.subarray(i, i + n)) ? n : 0;
}

export function shellJoin(args: readonly (Uint8Array | string)[]): string {
  return args.map(shellQuote).join(' ');
}

/** Lossy text for display where quoting is not wanted (invalid bytes -> U+FFFD). */
export function lossy(b: Uint8Array): string {
  // toString() without arguments goes straight to the UTF-8 decoder (no encoding lookup)
  return asBuffer(b).toString();
}
