import { z } from 'zod/v4';
import { parseMemberRef } from '../../domain/member';
import { message } from '../../domain/reply';
import { formatInZone } from '../../domain/time';
import { defineCommand } from '../command';

function brief(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

export const auditCommand = defineCommand({
  key: 'duty audit',
  summary: 'recent changes, optionally for one entity (e.g. member @alee)',
  usage: '/duty audit [entity [id|@member]] [limit=N]',
  allowed: ['admin'],
  positional: ['entity', 'id'],
  input: z.strictObject({
    entity: z.string().trim().toLowerCase().regex(/^[a-z_.-]{1,40}$/, { error: 'an entity name such as member' }).optional(),
    id: z.string().trim().max(100).optional(),
    limit: z.coerce.number({ error: 'limit is a number of entries, e.g. limit=50' }).int({ error: 'limit is a whole number' }).min(1, { error: 'at least 1 entry' }).max(100, { error: 'at most 100 entries' }).default(20),
  }),
  async run(ctx, input) {
    let entityId = input.id;
    // Members are named by handle in commands; the log keys them by id.
    if (input.entity === 'member' && entityId) {
      const ref = parseMemberRef(entityId);
      const m = ref ? await ctx.store.members.resolve(ref) : null;
      entityId = m?.id ?? (ref?.kind === 'handle' ? ((await ctx.store.members.byHandle(ref.handle))?.id ?? entityId) : entityId);
    }
    const entries = await ctx.store.audit.list({ entity: input.entity, entityId, limit: input.limit });
    const tz = ctx.actor?.timeZone ?? ctx.settings.missionTimeZone;
    return message({
      title: `Audit log${input.entity ? `: ${input.entity}${input.id ? ` ${input.id}` : ''}` : ''}`,
      // Pointing at the check: the log proves itself only when someone verifies it.
      text: entries.length ? `Latest ${entries.length}, newest first. Entries are hash-chained (seq); \`npm run audit:verify\` checks the chain.` : 'No entries.',
      rows: entries.map((e) => ({
        text: `#${e.id}${e.seq !== null ? ` seq ${e.seq}` : ''} ${formatInZone(e.at, tz)} ${e.actorName} ${e.action} ${e.entity} ${e.entityId} (${e.platform}, ref ${e.requestId.slice(0, 8)})\nbefore: ${brief(e.before)}\nafter: ${brief(e.after)}`,
      })),
    });
  },
});
