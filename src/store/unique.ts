// A write refused by a unique constraint: Prisma's P2002, or the driver's own message when the
// error comes through a raw statement.
export function isUniqueViolation(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'P2002' || /unique/i.test(err instanceof Error ? err.message : '');
}
