// The parsing half of the dispatcher, without a database: resolve the text (the real
// resolveText), clean the arguments, ask whether the form opens, and validate with the
// command's own schema. Nothing here may throw, and every refusal must say why in words a
// person can act on.
import fc from 'fast-check';
import { commands } from '../../src/handlers';
import type { AnyCommand, RawArgs } from '../../src/handlers/command';
import { resolveText } from '../../src/handlers/dispatcher';
import { cleanArgs, invocationArb, isHumanMessage, PROPERTY_RUNS, type GeneratedInvocation } from './generators';

export interface PureStats {
  runs: number;
  /** Typed lines that named this very command (the rest named another, or none). */
  resolved: number;
  parsed: number;
  rejected: number;
}

/** zod's own fallbacks: fine for a developer, useless to an officer at 3 a.m. */
const GENERIC = /^Invalid input(: expected \w+, received \w+)?$|^Invalid (string|element)|^Too (big|small): expected (int|number)/;

function typedOf(inv: GeneratedInvocation): string {
  return inv.kind === 'command' ? `${inv.text} ${JSON.stringify(inv.prefill ?? {})}` : JSON.stringify(inv);
}

function fail(c: AnyCommand, what: string, inv: GeneratedInvocation): never {
  throw new Error(`/${c.key}: ${what}\ninput: ${typedOf(inv).slice(0, 500)}`);
}

export function checkOne(c: AnyCommand, inv: GeneratedInvocation, stats: PureStats): void {
  stats.runs++;
  const typed = (): string => typedOf(inv);
  let command = c;
  let args: RawArgs;
  let context: string | undefined;
  if (inv.kind === 'command') {
    const r = resolveText(commands, inv.text);
    if (!r.ok) {
      const reply = r.reply;
      if (reply.kind !== 'message' || reply.ok || !reply.error?.code) fail(c, `a refusal that is not a failed message: ${JSON.stringify(reply)}`, inv);
      if (!isHumanMessage(reply.error.message, typed)) fail(c, `a refusal without a human message: ${JSON.stringify(reply.error)}`, inv);
      return;
    }
    command = r.command;
    if (command === c) stats.resolved++;
    args = cleanArgs({ ...(inv.prefill ?? {}), ...r.args });
  } else {
    args = cleanArgs(inv.values);
    context = inv.context;
  }
  // Whether the form opens instead is the command's own predicate: it must not throw either.
  command.opensForm?.(args);
  const parsed = command.input.safeParse(context !== undefined ? { ...args, context } : args);
  if (parsed.success) {
    stats.parsed++;
    return;
  }
  stats.rejected++;
  if (parsed.error.issues.length === 0) fail(command, 'a rejection with no issue', inv);
  // The dispatcher says "<label> is required" for a missing required form field, whatever zod said.
  const required = new Set((command.form?.fields ?? []).filter((f) => f.required && args[f.name] === undefined).map((f) => f.name));
  for (const issue of parsed.error.issues) {
    // Unknown keys are named by the dispatcher itself ("unknown field …").
    if (issue.code === 'unrecognized_keys') continue;
    const key = String(issue.path[0] ?? '_');
    if (required.has(key)) continue;
    if (!isHumanMessage(issue.message, typed)) fail(command, `a rejection without a human message: ${JSON.stringify(issue)}`, inv);
    // What can be typed (a string, or nothing) deserves a sentence; a forged form's array or
    // boolean where text belongs may get zod's own words.
    const value = args[key];
    if ((value === undefined || typeof value === 'string') && GENERIC.test(issue.message)) {
      fail(command, `zod's generic "${issue.message}" for ${key}=${JSON.stringify(value)?.slice(0, 80)}; give the schema an error message`, inv);
    }
  }
}

/** Runs PROPERTY_RUNS generated inputs for each of `which` (a slice of every command). */
export function definePureProperties(which: (all: readonly AnyCommand[]) => readonly AnyCommand[]): void {
  const chosen = which(commands);
  test.each(chosen.map((c) => [c.key, c] as const))('/%s: any input parses to a reply or a clear error, never a throw', (_key, c) => {
    const stats: PureStats = { runs: 0, resolved: 0, parsed: 0, rejected: 0 };
    fc.assert(
      fc.property(invocationArb(c), (inv) => checkOne(c, inv, stats)),
      { numRuns: PROPERTY_RUNS },
    );
    // Not vacuous: a good share of the typed lines reached this very command.
    expect(stats.runs).toBe(PROPERTY_RUNS);
    expect(stats.resolved).toBeGreaterThan(PROPERTY_RUNS * 0.05);
    // A nightly-sized run takes longer than jest's default per test; no assertion on time.
  }, Math.max(30_000, PROPERTY_RUNS * 5));
}
