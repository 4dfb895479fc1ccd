import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import { CommandError, defineCommand } from '../command';
import { identitiesFrom, profileFormFields, profileShape } from './member-fields';
import { memberFields } from './member-view';

export const memberAddCommand = defineCommand({
  key: 'duty member add',
  summary: 'register a member (with or without a chat account)',
  usage: '/duty member add handle=… name="…" [tz=…] [email=…] [phone=…] [slack=U…] [teams=<object id>] [roles=officer,leader]',
  allowed: ['admin'],
  form: { title: 'Add a member', submitLabel: 'Add', fields: profileFormFields({ forEdit: false }) },
  input: z.strictObject(profileShape),
  async run(ctx, input) {
    const ids = identitiesFrom(input, ctx.caller.platform === 'slack' ? ctx.origin.workspaceId : undefined);
    if (!ids.ok) throw new CommandError('INVALID_INPUT', ids.message, { [ids.field]: ids.message });
    const member = await ctx.store.change(ctx.meta, async (w) => {
      const same = await ctx.store.members.byHandle(input.handle, w.tx);
      if (same) {
        const hint = same.removedAt ? ` It belonged to a removed member: /duty member restore @${same.handle}` : '';
        throw new CommandError('HANDLE_TAKEN', `The handle @${input.handle} is taken.${hint}`, { handle: 'this handle is taken' });
      }
      for (const i of ids.identities) {
        const owner = await ctx.store.members.byIdentityIncludingRemoved(i, w.tx);
        if (owner) {
          const hint = owner.removedAt ? ` (@${owner.handle}, removed: /duty member restore @${owner.handle})` : '';
          throw new CommandError('IDENTITY_TAKEN', `That ${i.platform} account already belongs to another member${hint}.`, {
            [i.platform]: 'already linked to another member',
          });
        }
      }
      return ctx.store.members.create(
        w,
        {
          handle: input.handle,
          displayName: input.name,
          timeZone: input.tz ?? null,
          email: input.email ?? null,
          phone: input.phone ?? null,
          identities: ids.identities,
          roles: input.roles ?? [],
        },
        ctx.actor?.id ?? null,
      );
    });
    return message({ title: `Added @${member.handle}`, fields: memberFields(member, ctx.settings.missionTimeZone) });
  },
});
