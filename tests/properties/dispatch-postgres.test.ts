// The dispatcher run again on PostgreSQL, for the nightly (PROPERTY_DISPATCH_POSTGRES=1 with
// TEST_POSTGRES_URL): what only PostgreSQL refuses (NUL in text, 32-bit columns) shows here.
import { freshPostgres, pgAdminUrl } from '../helpers/db';
import { defineDispatchProperties } from './dispatch-check';

if (pgAdminUrl && process.env.PROPERTY_DISPATCH_POSTGRES) {
  describe('through the dispatcher [postgresql]', () => defineDispatchProperties((all) => all, freshPostgres));
} else {
  test.skip('every command through the dispatcher on PostgreSQL (nightly: PROPERTY_DISPATCH_POSTGRES=1 and TEST_POSTGRES_URL)', () => undefined);
}
