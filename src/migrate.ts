// `npm run db:migrate`: apply pending migrations and exit.
import { loadConfigOrExit } from './env';
import { migrate } from './store/migrate';

const config = loadConfigOrExit();
migrate(config.DATABASE_URL).then(
  ({ applied }) => {
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  },
  (e: unknown) => {
    process.stderr.write(`duty-desk: migration failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
