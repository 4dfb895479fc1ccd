import { newId, newTimeOrderedId } from '../../src/store/ids';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids', () => {
  test('newId: a random (v4) UUID, so its first 8 characters name it', () => {
    const ids = Array.from({ length: 1000 }, () => newId());
    for (const id of ids) expect(UUID.exec(id)?.[1]).toBe('4');
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBeGreaterThan(990);
  });

  test('newTimeOrderedId: a v7 UUID carrying the time, later ones sorting after earlier ones, never repeated', async () => {
    const before = Date.now();
    const first = Array.from({ length: 20_000 }, () => newTimeOrderedId());
    await new Promise((r) => setTimeout(r, 5));
    const second = Array.from({ length: 1000 }, () => newTimeOrderedId());
    for (const id of [...first, ...second]) expect(UUID.exec(id)?.[1]).toBe('7');
    const ms = parseInt(first[0]?.replace(/-/g, '').slice(0, 12) as string, 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
    const maxFirst = [...first].sort().at(-1) as string;
    expect(second.every((id) => id > maxFirst)).toBe(true);
    expect(new Set([...first, ...second]).size).toBe(21_000);
  });
});
