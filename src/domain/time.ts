// Time zone helpers. Pure: callers pass `now`.

/**
 * Zone names as typed → the zone database's spelling, or null when there is no such zone. Intl
 * builds a formatter to answer, which costs tens of microseconds: parsers ask for every argument.
 * Bounded: typed garbage must not grow it for ever.
 */
const zoneNames = new Map<string, string | null>();
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_CACHED = 2_000;

function zoneOf(tz: string): string | null {
  let found = zoneNames.get(tz);
  if (found === undefined) {
    try {
      found = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      found = null;
    }
    if (zoneNames.size >= MAX_CACHED) zoneNames.clear();
    zoneNames.set(tz, found);
  }
  return found;
}

export function isValidTimeZone(tz: string): boolean {
  return tz.trim() !== '' && zoneOf(tz) !== null;
}

/** "2026-11-22 16:05 CET" in the given zone. */
export function formatInZone(instant: Date, timeZone: string): string {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    if (formatters.size >= MAX_CACHED) formatters.clear();
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const get = (t: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

/** "europe/paris" → "Europe/Paris": the zone database's own spelling, which VTIMEZONE data and other systems expect. */
export function canonicalTimeZone(tz: string): string {
  const found = zoneOf(tz.trim());
  if (found === null) throw new RangeError(`Invalid time zone specified: ${tz}`);
  return found;
}
