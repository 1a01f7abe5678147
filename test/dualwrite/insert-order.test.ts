import { describe, expect, it } from 'vitest';
import { InsertOrder, InsertOrderTimeout, type OrderClaim } from '../../src/dualwrite/insert-order.js';

/** An insert that generates its ids (its column list leaves the id out). */
const insert = (table: string): OrderClaim => ({ table, columns: ['u', 'v'] });
/** An insert that may give the id (no column list). */
const anyColumns = (table: string): OrderClaim => ({ table, columns: undefined });
/** An upsert that can try ids it gives back; under lock mode 0, `everyInsert`. */
const upsert = (table: string, everyInsert = false): OrderClaim => ({
  table,
  columns: ['u', 'v'],
  upsert: { idColumn: 'id', everyInsert },
});

/** Whether a promise has settled after pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('insert order', () => {
  it('lets inserts into one table in together', async () => {
    const order = new InsertOrder();
    const a = await order.enter([anyColumns('db.t')], 1000);
    const b = await order.enter([anyColumns('db.t')], 1000);
    a();
    b();
    expect(order.busy).toBe(0);
  });

  it('holds an upsert until the inserts that may give ids have left, and later ones until it has', async () => {
    const order = new InsertOrder();
    const explicit = await order.enter([{ table: 'db.t', columns: ['id', 'v'] }], 1000);
    const up = order.enter([upsert('db.t')], 1000);
    expect(await settled(up)).toBe(false);
    const later = order.enter([anyColumns('db.t')], 1000);
    expect(await settled(later)).toBe(false);
    explicit();
    const leaveUpsert = await up;
    expect(await settled(later)).toBe(false);
    leaveUpsert();
    (await later)();
    expect(order.busy).toBe(0);
  });

  it('lets inserts of generated ids and other upserts pass an upsert, unless under lock mode 0', async () => {
    const order = new InsertOrder();
    const up = await order.enter([upsert('db.t')], 1000);
    (await order.enter([insert('db.t')], 1000))();
    (await order.enter([upsert('db.t')], 1000))();
    up();
    const strict = await order.enter([upsert('db.t', true)], 1000);
    const generated = order.enter([insert('db.t')], 1000);
    expect(await settled(generated)).toBe(false);
    strict();
    (await generated)();
    expect(order.busy).toBe(0);
  });

  it('does not order inserts into other tables', async () => {
    const order = new InsertOrder();
    const up = await order.enter([upsert('db.t', true)], 1000);
    (await order.enter([anyColumns('db.u')], 1000))();
    up();
  });

  it('does not let an insert overtake a waiting upsert it conflicts with', async () => {
    const order = new InsertOrder();
    const first = await order.enter([anyColumns('db.t')], 1000);
    const up = order.enter([upsert('db.t')], 1000);
    // Conflicts with the waiting upsert alone, not with the holder: still waits behind it.
    const second = order.enter([anyColumns('db.t')], 1000);
    // Conflicts with nothing: goes in.
    (await order.enter([insert('db.t')], 1000))();
    expect(await settled(second)).toBe(false);
    first();
    (await up)();
    (await second)();
  });

  it('gives up after its limit holding nothing, and lets those behind it in', async () => {
    const order = new InsertOrder();
    const held = await order.enter([anyColumns('db.t'), anyColumns('db.u')], 1000);
    const up = order.enter([upsert('db.u'), anyColumns('db.t')], 30);
    const later = order.enter([anyColumns('db.u')], 1000);
    await expect(up).rejects.toBeInstanceOf(InsertOrderTimeout);
    await expect(up).rejects.toThrow(/waited 30 ms for an upsert of db\.u/);
    (await later)();
    held();
    // The timed-out upsert had entered db.t (name order) before waiting for db.u: it left it.
    expect(order.busy).toBe(0);
  });

  it('leaves each claim once, however often its leave is called', async () => {
    const order = new InsertOrder();
    const a = await order.enter([anyColumns('db.t')], 1000);
    const b = await order.enter([anyColumns('db.t')], 1000);
    a();
    a();
    const up = order.enter([upsert('db.t')], 1000);
    expect(await settled(up)).toBe(false);
    b();
    (await up)();
    expect(order.busy).toBe(0);
  });

  it('takes a table named twice once, with what either claim asks', async () => {
    const order = new InsertOrder();
    const both = await order.enter([anyColumns('db.t'), upsert('db.t')], 50);
    await expect(order.enter([anyColumns('db.t')], 20)).rejects.toBeInstanceOf(InsertOrderTimeout);
    both();
    expect(order.busy).toBe(0);
  });
});
