import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import { onDutyAt } from '../../domain/rotation';
import { CommandError, defineCommand } from '../command';
import { loadPlan } from './roster-common';

export const logCommand = defineCommand({
  key: 'duty log',
  summary: "add to the current shift's duty log (it goes into the handoff brief)",
  usage: '/duty log <text>',
  allowed: ['officer', 'crisis', 'admin'],
  rest: 'text',
  input: z.strictObject({
    text: z.string({ error: 'write what happened, e.g. /duty log Call from police in Lyon about C. Diaz' }).trim().min(1).max(2000, { error: 'a log entry is at most 2,000 characters' }),
    roster: z.string().trim().max(60).optional(),
  }),
  async run(ctx, input) {
    const t = ctx.now.getTime();
    const rosters = input.roster ? [await ctx.store.rosters.byName(input.roster)].filter((r) => r !== null) : await ctx.store.rosters.list();
    if (input.roster && rosters.length === 0) throw new CommandError('UNKNOWN_ROSTER', `There is no roster "${input.roster}".`);
    // The roster the caller is on duty for now; with roster=…, that one.
    for (const r of rosters) {
      const { plan } = await loadPlan(ctx.store, r);
      const on = onDutyAt({ ...plan, coverage: [] }, await ctx.store.rosters.overrides(r.id, t, t + 1), t);
      if (input.roster || on.primary === ctx.actor?.id || on.backup === ctx.actor?.id) {
        await ctx.store.change(ctx.meta, (w) => ctx.store.rosters.addLog(w, { rosterId: r.id, shiftStart: on.shift.start, authorId: ctx.actor?.id ?? '', text: input.text }));
        return message({ text: `Logged in ${r.name}'s duty log; it goes to whoever takes over next.` });
      }
    }
    throw new CommandError('NOT_ON_DUTY', 'You are not on duty on any roster now; add roster=<name> to log to one anyway.');
  },
});
