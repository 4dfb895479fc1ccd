import pino from 'pino';
import { startCore } from '../../src/core';
import { parseConfig } from '../../src/config';
(async () => {
  const c = parseConfig({ DATABASE_URL: 'file:/tmp/prof/x.db', BOOTSTRAP_ADMINS: 'slack:T1:U1' });
  if (!c.ok) throw new Error(c.error);
  const core = await startCore(c.config, pino({ level: 'warn' }));
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    for (let i = 0; i < 200; i++) await core.dispatcher.dispatch({ kind: 'command', text: '/duty help', caller: { platform: 'slack', externalId: 'T1:U1' }, origin: {}, requestId: 'r' + i });
    console.log('dispatch ms/op', (performance.now() - t) / 200);
  }
  const t2 = performance.now();
  for (let i = 0; i < 200; i++) await core.store.members.byIdentity('slack', 'T1:U1');
  console.log('byIdentity ms/op', (performance.now() - t2) / 200);
  await core.close();
})();
