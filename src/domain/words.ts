// Small helpers the lenient parsers of the domain share: how a typed word is looked up, and how
// what was typed is quoted back in a message.
import { z } from 'zod/v4';

/** What was typed, trimmed and cut to 40 characters, to quote in a message. */
export function shown(s: string): string {
  const t = s.trim();
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

/** 10,000: a fixed locale, so messages do not depend on the host. */
export function count(n: number): string {
  return n.toLocaleString('en-GB');
}

/** The key lenient parsers look words up by: lower case, no accents, no spaces or punctuation. */
export function compact(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Codes by their compact code, label and synonyms. */
export function lookup<T extends string>(codes: readonly T[], labels: Record<T, string>, synonyms: Record<T, readonly string[]>): Map<string, T> {
  const m = new Map<string, T>();
  for (const code of codes) {
    for (const word of [code, labels[code], ...synonyms[code]]) m.set(compact(word), code);
  }
  return m;
}

/** "a, b or c" */
export function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** A schema over a lenient word parser: null from the parser is the error. */
export function wordSchema<T>(parse: (s: string) => T | null, what: string, codes: readonly string[]) {
  return z.string({ error: `${what} is required` }).transform((s, ctx) => {
    const v = parse(s);
    if (v === null) {
      ctx.addIssue({ code: 'custom', message: `"${shown(s)}" is not ${what}; use ${orList(codes)}` });
      return z.NEVER;
    }
    return v;
  });
}
