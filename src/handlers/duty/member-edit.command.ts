import { z } from 'zod/v4';
import { memberRefSchema } from '../../domain/member';
import { message } from '../../domain/reply';
import { CommandError, defineCommand } from '../command';
import { identitiesFrom, profileFormFields, profileShape } from './member-fields';
import { memberFields } from './member-view';

const fields = profileFormFields({ forEdit: true });
const editable = ['handle', 'name', 'tz', 'email', 'phone', 'slack', 'teams'] as const;

export const memberEditCommand = defineCommand({
  key: 'duty member edit',
  summary: "change a member's profile (no fields: opens the form)",
  usage: '/duty member edit @member [name="…"] [handle=…] [tz=…|none] [email=…|none] [phone=…|none] [slack=U…] [teams=<object id>]',
  allowed: ['admin'],
  positional: ['member'],
  form: { title: 'Edit a member', submitLabel: 'Save', fields },
  // The form needs the member's current values, so the use case builds it (below).
  opensForm: () => false,
  input: z
    .strictObject({
      member: memberRefSchema.optional(),
      /** The member id, carried by the form. */
      context: z.string().optional(),
      handle: profileShape.handle.optional(),
      name: profileShape.name.optional(),
      tz: profileShape.tz,
      email: profileShape.email,
      phone: profileShape.phone,
      slack: profileShape.slack,
      teams: profileShape.teams,
    })
    .refine((v) => v.member || v.context, { error: 'name the member to edit, e.g. /duty member edit @alee', path: ['member'] }),
  async run(ctx, input) {
    const target = input.context
      ? await ctx.store.members.byId(input.context)
      : await ctx.store.members.resolve(input.member as NonNullable<typeof input.member>);
    if (!target || target.removedAt) return message({ ok: false, text: 'No such member.', error: { code: 'UNKNOWN_MEMBER', message: 'No such member.' } });
    const changes = editable.filter((k) => input[k] !== undefined);
    if (changes.length === 0) {
      return {
        kind: 'form',
        form: {
          command: 'duty member edit',
          title: 'Edit a member',
          submitLabel: 'Save',
          fields,
          context: target.id,
          values: {
            handle: target.handle,
            name: target.displayName,
            ...(target.timeZone ? { tz: target.timeZone } : {}),
            ...(target.email ? { email: target.email } : {}),
            ...(target.phone ? { phone: target.phone } : {}),
          },
        },
      };
    }
    const ids = identitiesFrom(input, ctx.caller.platform === 'slack' ? ctx.origin.workspaceId : undefined);
    if (!ids.ok) throw new CommandError('INVALID_INPUT', ids.message, { [ids.field]: ids.message });
    const after = await ctx.store.change(ctx.meta, async (w) => {
      if (input.handle && input.handle !== target.handle && (await ctx.store.members.byHandle(input.handle, w.tx))) {
        throw new CommandError('HANDLE_TAKEN', `The handle @${input.handle} is taken.`, { handle: 'this handle is taken' });
      }
      const add = [];
      for (const i of ids.identities) {
        const owner = await ctx.store.members.identityOwner(i, w.tx);
        if (owner && owner !== target.id) {
          throw new CommandError('IDENTITY_TAKEN', `That ${i.platform} account already belongs to another member.`, {
            [i.platform]: 'already linked to another member',
          });
        }
        if (!owner) add.push(i);
      }
      return ctx.store.members.update(w, target, {
        ...(input.handle !== undefined ? { handle: input.handle } : {}),
        ...(input.name !== undefined ? { displayName: input.name } : {}),
        ...(input.tz !== undefined ? { timeZone: input.tz } : {}),
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        addIdentities: add,
      });
    });
    return message({ title: `Updated @${after.handle}`, fields: memberFields(after, ctx.settings.missionTimeZone) });
  },
});
