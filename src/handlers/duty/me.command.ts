import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import { rolesLabel } from '../../domain/member';
import { defineCommand } from '../command';
import { memberFields } from './member-view';

export const meCommand = defineCommand({
  key: 'duty me',
  summary: 'your own profile and roles',
  usage: '/duty me',
  allowed: 'any-member',
  allowUnregistered: true,
  input: z.object({}).strict(),
  async run(ctx) {
    if (!ctx.actor) {
      return message({
        ok: false,
        title: 'Not registered',
        text: `You are not registered with Duty Desk. An admin can add you with: /duty member add handle=… name=… ${ctx.caller.platform}=${ctx.caller.externalId}`,
        error: { code: 'NOT_REGISTERED', message: 'You are not registered with Duty Desk.' },
      });
    }
    return message({
      title: `${ctx.actor.displayName} (@${ctx.actor.handle})`,
      text: `Roles: ${rolesLabel(ctx.actor.roles)}`,
      fields: memberFields(ctx.actor, ctx.settings.missionTimeZone),
    });
  },
});
