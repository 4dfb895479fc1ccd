import { splitArgs, tokenize } from '../../src/domain/args';
import { parseIdentitySpec, parseMemberRef } from '../../src/domain/member';

test.each([
  ['member add handle=alee name="Ana Lima"', ['member', 'add', 'handle=alee', 'name=Ana Lima']],
  ['note “curly quotes” ok', ['note', 'curly quotes', 'ok']],
  ["O'Brien is a name", ["O'Brien", 'is', 'a', 'name']],
  ["name='Ann Marie'", ['name=Ann Marie']],
  ['  spaced   out  ', ['spaced', 'out']],
  ['empty=""', ['empty=']],
])('tokenize %s', (text, tokens) => {
  expect(tokenize(text)).toEqual({ ok: true, tokens });
});

test('an unclosed quote is an error, not a guess', () => {
  expect(tokenize('name="Ana')).toMatchObject({ ok: false });
});

test('splitArgs separates positional words from key=value pairs, keys case-insensitive', () => {
  expect(splitArgs(['@alee', 'Role=officer', 'x=a=b'])).toEqual({ positional: ['@alee'], named: { role: 'officer', x: 'a=b' } });
});

test('member references: handles and canonical platform mentions', () => {
  expect(parseMemberRef('@ALee')).toEqual({ kind: 'handle', handle: 'alee' });
  expect(parseMemberRef('<@slack:T1:U2>')).toEqual({ kind: 'identity', identity: { platform: 'slack', externalId: 'T1:U2' } });
  expect(parseMemberRef('<@teams:abc-def|Ana>')).toEqual({ kind: 'identity', identity: { platform: 'teams', externalId: 'abc-def' } });
  expect(parseMemberRef('not a handle!')).toBeNull();
  expect(parseIdentitySpec('slack:T1:U2')).toEqual({ platform: 'slack', externalId: 'T1:U2' });
  expect(parseIdentitySpec('slack:U2')).toBeNull();
  expect(parseIdentitySpec('bogus')).toBeNull();
});
