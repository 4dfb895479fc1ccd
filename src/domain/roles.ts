export const ROLES = ['officer', 'crisis', 'leader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who may run a command: listed roles, or any registered member. */
export type Allowed = readonly Role[] | 'any-member';

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function mayRun(allowed: Allowed, have: readonly Role[]): boolean {
  return allowed === 'any-member' || allowed.some((r) => have.includes(r));
}

export function describeAllowed(allowed: Allowed): string {
  return allowed === 'any-member' ? 'any member' : allowed.join(' or ');
}
