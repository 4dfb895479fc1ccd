// Shared by the roster use cases: finding the roster meant, loading its plan, naming people.
import type { Member } from '../../domain/member';
import { planOf, type Roster } from '../../domain/roster';
import type { RosterPlan } from '../../domain/rotation';
import { zoneAbbreviation } from '../../domain/zoned';
import type { Store } from '../../store/store';
import { CommandError, type HandlerContext } from '../command';
import type { OverrideRecord } from '../../store/roster.repository';
import type { MemberName } from '../../store/member.repository';

export interface LoadedRoster {
  roster: Roster;
  plan: RosterPlan;
}

export async function loadPlan(store: Store, roster: Roster): Promise<LoadedRoster> {
  const holidays = await store.rosters.holidays(roster.id);
  return { roster, plan: planOf(roster, holidays.map((h) => h.date)) };
}

/**
 * The roster a command means: the one named, else the caller's only roster, else the only
 * roster there is. Otherwise an error listing the choices.
 */
export async function resolveRoster(ctx: HandlerContext, name: string | undefined): Promise<Roster> {
  if (name) {
    const r = await ctx.store.rosters.byName(name);
    if (r) return r;
    const all = await ctx.store.rosters.list();
    throw new CommandError('UNKNOWN_ROSTER', `There is no roster "${name.slice(0, 40)}". Rosters: ${all.map((x) => x.name).join(', ') || 'none yet (/duty roster new)'}.`, {
      roster: 'no such roster',
    });
  }
  const all = await ctx.store.rosters.list();
  if (all.length === 1) return all[0] as Roster;
  if (ctx.actor) {
    const mine = all.filter((r) => r.members.includes((ctx.actor as Member).id));
    if (mine.length === 1) return mine[0] as Roster;
  }
  if (all.length === 0) throw new CommandError('NO_ROSTERS', 'There are no rosters yet. An admin creates one with /duty roster new.');
  throw new CommandError('WHICH_ROSTER', `Which roster? Add its name: ${all.map((x) => x.name).join(', ')}.`, { roster: 'name the roster' });
}

export class MemberNames {
  private constructor(private readonly byId: Map<string, MemberName>) {}

  static async load(store: Store): Promise<MemberNames> {
    const all = await store.members.directory();
    return new MemberNames(new Map(all.map((m) => [m.id, m])));
  }

  get(id: string | null): MemberName | undefined {
    return id ? this.byId.get(id) : undefined;
  }

  /** "Ana Lee (@alee)", or "nobody". */
  label(id: string | null): string {
    if (!id) return 'nobody';
    const m = this.byId.get(id);
    return m ? `${m.displayName} (@${m.handle})` : 'a removed member';
  }

  short(id: string | null): string {
    if (!id) return '—';
    const m = this.byId.get(id);
    return m ? `@${m.handle}` : '?';
  }
}

/** The zone the caller reads times in: their own, else the roster's, else the mission's. */
export function viewerZone(ctx: HandlerContext, roster?: Roster): string {
  return ctx.actor?.timeZone ?? roster?.timeZone ?? ctx.settings.missionTimeZone;
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();

/** "Fri 24 Dec 18:00 CET" in the given zone. */
export function when(instant: number, timeZone: string): string {
  let f = fmtCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    fmtCache.set(timeZone, f);
  }
  const p = f.formatToParts(new Date(instant));
  const g = (t: Intl.DateTimeFormatPartTypes): string => p.find((x) => x.type === t)?.value ?? '';
  return `${g('weekday')} ${g('day')} ${g('month')} ${g('hour')}:${g('minute')} ${zoneAbbreviation(timeZone, instant)}`;
}

export function overrideLine(o: OverrideRecord, names: MemberNames, tz: string): string {
  const whom = o.replaces ? ` for ${names.short(o.replaces)}` : '';
  return `${o.kind === 'swap' ? 'swap' : 'cover'} ${o.id.slice(0, 8)}: ${names.short(o.memberId)}${whom} (${o.layer}) ${when(o.from, tz)} → ${when(o.to, tz)}`;
}

export function parseErrorToCommand(field: string, message: string): never {
  throw new CommandError('INVALID_INPUT', `${field}: ${message}`, { [field]: message });
}
