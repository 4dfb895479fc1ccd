import { parseConfig } from '../src/config';

test('defaults', () => {
  const r = parseConfig({});
  expect(r).toMatchObject({ ok: true, config: { DATABASE_URL: 'file:./data/duty-desk.db', PORT: 3000, MISSION_TIMEZONE: 'UTC', TEAMS_ANONYMOUS: false, BOOTSTRAP_ADMINS: [] } });
});

test.each([
  [{ PORT: 'eighty' }, /^PORT: /],
  [{ PORT: '70000' }, /^PORT: expected a port/],
  [{ MISSION_TIMEZONE: 'Europe/Atlantis' }, /^MISSION_TIMEZONE: expected an IANA time zone/],
  [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: expected file:/],
  [{ SLACK_BOT_TOKEN: 'abc' }, /^SLACK_BOT_TOKEN: expected a bot token/],
  [{ SLACK_BOT_TOKEN: 'xoxb-1' }, /^SLACK_SIGNING_SECRET: required/],
  [{ TEAMS_APP_ID: 'id' }, /^TEAMS_APP_PASSWORD: /],
  [{ TEAMS_ANONYMOUS: 'maybe' }, /^TEAMS_ANONYMOUS: expected 1 or 0/],
  [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
  [{ BOOTSTRAP_ADMINS: 'slack:U1' }, /^BOOTSTRAP_ADMINS: expected comma-separated/],
  [{ BOOTSTRAP_ADMINS: 'teams:abc' }, /^BOOTSTRAP_ADMINS: /],
])('a bad value names the variable: %j', (env, msg) => {
  const r = parseConfig(env);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error).toMatch(msg);
});

test('lists and flags', () => {
  const r = parseConfig({ BOOTSTRAP_ADMINS: ' slack:T1:U1, teams:0000AAAA-0000-0000-0000-000000000001 ,', TEAMS_ANONYMOUS: '1', DATABASE_URL: 'postgresql://u@h/db' });
  expect(r).toMatchObject({ ok: true, config: { BOOTSTRAP_ADMINS: ['slack:T1:U1', 'teams:0000AAAA-0000-0000-0000-000000000001'], TEAMS_ANONYMOUS: true } });
});
