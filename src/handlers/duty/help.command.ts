import { z } from 'zod/v4';
import { message } from '../../domain/reply';
import { defineCommand } from '../command';

export const helpCommand = defineCommand({
  key: 'duty help',
  summary: 'list the commands you may run',
  usage: '/duty help [topic]',
  allowed: 'any-member',
  allowUnregistered: true,
  rest: 'topic',
  input: z.object({ topic: z.string().max(60).optional() }),
  async run(ctx, input) {
    const topic = input.topic?.toLowerCase().replace(/^\//, '');
    const shown = ctx.available.filter((c) => !c.hidden && (!topic || c.key.includes(topic)));
    const groups = new Map<string, string[]>();
    for (const c of shown) {
      const top = c.key.split(' ')[0] as string;
      groups.set(top, [...(groups.get(top) ?? []), `\`${c.usage}\` — ${c.summary}`]);
    }
    if (shown.length === 0) {
      return message({ ok: !topic, title: 'Duty Desk help', text: topic ? `No command you may run matches "${topic}".` : 'You may not run any command yet.' });
    }
    return message({
      title: topic ? `Duty Desk help: ${topic}` : 'Duty Desk help',
      text: ctx.actor
        ? 'Commands you may run. Fields go inline as key=value (quote spaces: name="Ana Lima"); leave required ones out to get a form.'
        : 'You are not registered yet: an admin adds you with /duty member add. Until then you may run:',
      rows: [...groups.entries()].map(([top, lines]) => ({ text: `*/${top}*\n${lines.join('\n')}` })),
      fallback: shown.map((c) => c.usage).join('\n'),
    });
  },
});
