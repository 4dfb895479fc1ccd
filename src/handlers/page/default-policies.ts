// The two built-in escalation policies, created at every start when missing: "Leadership" and,
// once a roster exists, "Duty officer". An admin's edits are never overwritten.
import type { EscalationStep } from '../../domain/escalation';
import type { Logger } from '../../logger';
import type { Tx } from '../../store/client';
import { systemMeta, type Store } from '../../store/store';

const MINUTE = 60_000;

export const LEADERSHIP = 'leadership';
export const DUTY_OFFICER = 'duty-officer';

/**
 * Policy names are unique without regard to case, which the column's own unique index does not
 * check: on PostgreSQL, writers that check a name take this lock first (SQLite runs write
 * transactions one at a time already).
 */
export async function lockPolicyNames(store: Store, tx: Tx): Promise<void> {
  if (store.provider === 'postgresql') await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('duty-desk:policy-names'))`;
}

interface BuiltIn {
  builtIn: string;
  name: string;
  /** null: not yet possible (no roster); tried again at the next start or call */
  build(store: Store, tx: Tx): Promise<{ steps: EscalationStep[]; repeat: number } | null>;
}

const BUILT_INS: readonly BuiltIn[] = [
  {
    builtIn: LEADERSHIP,
    name: 'Leadership',
    build: async () => ({ steps: [{ targets: [{ kind: 'role', role: 'leader' }], delayMs: 5 * MINUTE }], repeat: 2 }),
  },
  {
    builtIn: DUTY_OFFICER,
    name: 'Duty officer',
    async build(store, tx) {
      const roster = (await store.rosters.list(tx))[0];
      if (!roster) return null;
      return {
        steps: [
          { targets: [{ kind: 'roster', rosterId: roster.id, layer: 'primary' }], delayMs: 5 * MINUTE },
          { targets: [{ kind: 'roster', rosterId: roster.id, layer: 'backup' }], delayMs: 5 * MINUTE },
          { targets: [{ kind: 'role', role: 'leader' }], delayMs: 10 * MINUTE },
        ],
        repeat: 2,
      };
    },
  },
];

/** Idempotent, and safe when several replicas start at once. Call it again after the first roster is created. */
export async function ensureDefaultPolicies(store: Store, logger: Logger): Promise<void> {
  for (const b of BUILT_INS) {
    try {
      const outcome = await store.change(systemMeta('default-policies'), async (w): Promise<'exists' | 'clash' | 'waiting' | 'created'> => {
        await lockPolicyNames(store, w.tx);
        // Found also when archived or renamed: it was made once, and what an admin did with it stands.
        if (await store.pages.policyByBuiltIn(b.builtIn, w.tx)) return 'exists';
        if (await store.pages.policyByName(b.name, w.tx)) return 'clash';
        const spec = await b.build(store, w.tx);
        if (!spec) return 'waiting';
        await store.pages.createPolicy(w, { name: b.name, ...spec, builtIn: b.builtIn });
        return 'created';
      });
      if (outcome === 'created') logger.info({ policy: b.name }, 'built-in escalation policy created');
      if (outcome === 'clash') logger.warn({ policy: b.name }, 'an escalation policy an admin made already has this built-in name; built-in policy not created');
    } catch (e) {
      // Another replica created it at the same moment (builtIn is unique): it exists, which is all we want.
      if ((e as { code?: unknown }).code === 'P2002') continue;
      throw e;
    }
  }
}
