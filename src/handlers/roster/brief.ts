// The handoff brief: a list of sections that capabilities register (the duty log here; open
// cases, active crises and unresolved pages from their own issues).
import type { Roster } from '../../domain/roster';
import type { Store } from '../../store/store';

export interface BriefContext {
  store: Store;
  roster: Roster;
  /** the shift being handed over */
  outgoing: { start: number; end: number };
  now: number;
  timeZone: string;
}

export interface BriefSection {
  title: string;
  /** lines of the section; null or empty leaves it out */
  lines(ctx: BriefContext): Promise<string[] | null>;
}

const sections: BriefSection[] = [];

export function registerBriefSection(s: BriefSection): void {
  if (!sections.some((x) => x.title === s.title)) sections.push(s);
}

export async function buildBrief(ctx: BriefContext): Promise<{ title: string; lines: string[] }[]> {
  const out: { title: string; lines: string[] }[] = [];
  for (const s of sections) {
    const lines = await s.lines(ctx);
    if (lines?.length) out.push({ title: s.title, lines });
  }
  return out;
}
