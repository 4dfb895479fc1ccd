import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import { rolesLabel } from '../../domain/member';
import { defineCommand } from '../command';

/**
 * The personal dashboard (Slack App Home). Later capabilities add their sections here: open
 * cases, who is on duty, open pages.
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
    return message({
      title: `Duty Desk — ${ctx.actor.displayName}`,
      text: `Roles: ${rolesLabel(ctx.actor.roles)}. Type /duty help for what you can do.`,
      buttons: [{ label: 'Help', command: '/duty help' }, { label: 'My profile', command: '/duty me' }],
    });
  },
});
