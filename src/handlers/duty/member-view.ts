import type { Member } from '../../domain/member';
import { rolesLabel } from '../../domain/member';
import type { ReplyField } from '../../domain/reply';

export function memberFields(m: Member, missionTimeZone: string): ReplyField[] {
  return [
    { label: 'Handle', value: `@${m.handle}` },
    { label: 'Name', value: m.displayName },
    { label: 'Roles', value: rolesLabel(m.roles) },
    { label: 'Time zone', value: m.timeZone ?? `${missionTimeZone} (mission default)` },
    { label: 'Email', value: m.email ?? '—' },
    { label: 'Phone', value: m.phone ?? '—' },
    {
      label: 'Chat accounts',
      value: m.identities.length ? m.identities.map((i) => `${i.platform} ${i.externalId}`).join(', ') : 'none (reached by SMS or email only)',
    },
    ...(m.removedAt ? [{ label: 'Removed', value: m.removedAt.toISOString() }] : []),
  ];
}

export function memberLine(m: Member): string {
  const contact = [m.email, m.phone].filter(Boolean).join(', ');
  return `@${m.handle} — ${m.displayName} — ${rolesLabel(m.roles)}${contact ? ` — ${contact}` : ''}${m.identities.length ? '' : ' — no chat account'}`;
}
