// Splits command text into positional words and key=value pairs, honouring quotes.
// `name="Ana Lima"`, `"two words"`, and the curly quotes phones type are all accepted.

export interface ParsedArgs {
  positional: string[];
  named: Record<string, string>;
}

export type TokenizeResult = { ok: true; tokens: string[] } | { ok: false; error: string };

const OPEN_TO_CLOSE: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’' };

export function tokenize(text: string): TokenizeResult {
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
