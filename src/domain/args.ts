// Splits command text into positional words and key=value pairs, honouring quotes.
// `name="Ana Lima"`, `"two words"`, and the curly quotes phones type are all accepted.

export interface ParsedArgs {
  positional: string[];
  named: Record<string, string>;
}

export type TokenizeResult = { ok: true; tokens: string[] } | { ok: false; error: string };

const OPEN_TO_CLOSE: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’' };

// An unpaired UTF-16 surrogate (a forged payload's "\ud800") cannot be encoded as UTF-8, and
// PostgreSQL text cannot hold NUL: either makes the database driver throw.
// eslint-disable-next-line no-control-regex -- NUL is exactly what must go
const UNSTORABLE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/g;

/** The text with anything no database can store replaced by U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

export function tokenize(raw: string): TokenizeResult {
  const text = wellFormed(raw);
  const tokens: string[] = [];
  let cur = '';
  let inToken = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    const close = OPEN_TO_CLOSE[ch];
    // An apostrophe inside a word (O'Brien) is a letter, not a quote.
    if (close && !(ch === "'" && inToken && cur !== '' && !cur.endsWith('='))) {
      const end = text.indexOf(close, i + 1);
      if (end < 0) return { ok: false, error: `a quote opened at character ${i + 1} is never closed` };
      cur += text.slice(i + 1, end);
      inToken = true;
      i = end + 1;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inToken) tokens.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
    i++;
  }
  if (inToken) tokens.push(cur);
  return { ok: true, tokens };
}

const KEY = /^([a-zA-Z][a-zA-Z0-9_-]*)=(.*)$/s;

export function splitArgs(tokens: string[]): ParsedArgs {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (const t of tokens) {
    const m = KEY.exec(t);
    if (m) named[(m[1] as string).toLowerCase()] = m[2] as string;
    else positional.push(t);
  }
  return { positional, named };
}
