// Loads .env (if any) and validates the environment; a bad value stops start-up with one line.
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { parseConfig, type Config } from './config';
import { projectRoot } from './store/paths';

export function loadConfigOrExit(): Config {
  const file = path.join(projectRoot(), '.env');
  if (fs.existsSync(file)) dotenv.config({ path: file, quiet: true });
  const r = parseConfig(process.env);
  if (!r.ok) {
    process.stderr.write(`duty-desk: configuration error: ${r.error}\n`);
    process.exit(2);
  }
  return r.config;
}
