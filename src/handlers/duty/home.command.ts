import { z } from 'zod/v4';
import { maySeeFullDetails } from '../../domain/case';
import { message, type ReplyRow } from '../../domain/reply';
import { rolesLabel } from '../../domain/member';
import { defineCommand } from '../command';
import { caseRow } from '../case/case-view';
import { MemberNames, viewerZone } from '../roster/roster-common';
import { describeAt } from '../roster/who.commands';

const HOME_CASES = 10;

/**
 * The personal dashboard (Slack App Home): who is on duty now, and the viewer's open cases and
 * the new ones nobody has picked up.
 */
export const homeCommand = defineCommand({
  key: 'duty home',
  summary: 'your dashboard',
  usage: '/duty home',
  allowed: 'any-member',
  allowUnregistered: true,
  hidden: true,
  input: z.object({}),
  async run(ctx) {
    if (!ctx.actor) {
      return message({
        title: 'Duty Desk',
        text: `You are not registered yet. Ask an admin to add you: /duty member add handle=… name=… ${ctx.caller.platform}=${ctx.caller.externalId}`,
      });
    }
    const actor = ctx.actor;
    const now = ctx.now.getTime();
    const tz = viewerZone(ctx);
    const names = await MemberNames.load(ctx.store);
    const rosters = await ctx.store.rosters.list();
    const rows: ReplyRow[] = [];
    if (rosters.length) rows.push({ text: '*On duty now*' }, ...(await Promise.all(rosters.map((r) => describeAt(ctx, r, now, names)))));
    const buttons = [{ label: 'Help', command: '/duty help' }, { label: 'My profile', command: '/duty me' }];
    if (maySeeFullDetails(actor.roles) || actor.roles.includes('admin')) {
      const open = ['new', 'acknowledged', 'in-progress', 'waiting'];
      const [mine, waiting] = await Promise.all([
        ctx.store.cases.list({ statuses: open, assigneeId: actor.id }, 'priority', HOME_CASES),
        ctx.store.cases.list({ statuses: ['new'] }, 'priority', HOME_CASES),
      ]);
      rows.push({ text: `*Your open cases (${mine.total})*${mine.total ? '' : '\nNone.'}` }, ...mine.rows.map((c) => caseRow(c, names, tz, now)));
      const unassigned = waiting.rows.filter((c) => !c.assigneeId);
      if (unassigned.length) rows.push({ text: `*New, not yet picked up (${unassigned.length}${waiting.total > waiting.rows.length ? '+' : ''})*` }, ...unassigned.map((c) => caseRow(c, names, tz, now)));
      buttons.unshift({ label: 'Log a case', command: '/case new' });
    }
    return message({
      title: `Duty Desk — ${actor.displayName}`,
      text: `Roles: ${rolesLabel(actor.roles)}. Type /duty help for what you can do.`,
      rows,
      buttons,
    });
  },
});
