import { describe, expect, it } from 'vitest';
import { InsertOrder, InsertOrderTimeout } from '../../src/dualwrite/insert-order.js';

const shared = (table: string) => ({ table, exclusive: false });
const exclusive = (table: string) => ({ table, exclusive: true });

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
    const a = await order.enter([shared('db.t')], 1000);
    const b = await order.enter([shared('db.t')], 1000);
    a();
    b();
    expect(order.busy).toBe(0);
  });

  it('holds an upsert until the inserts under way have left, and later inserts until it has', async () => {
    const order = new InsertOrder();
    const insert = await order.enter([shared('db.t')], 1000);
    const upsert = order.enter([exclusive('db.t')], 1000);
    expect(await settled(upsert)).toBe(false);
    // An insert that comes after the waiting upsert queues behind it, though only inserts hold the table.
    const later = order.enter([shared('db.t')], 1000);
    expect(await settled(later)).toBe(false);
    insert();
    const leaveUpsert = await upsert;
    expect(await settled(later)).toBe(false);
    leaveUpsert();
    (await later)();
    expect(order.busy).toBe(0);
  });

  it('does not order inserts into other tables', async () => {
    const order = new InsertOrder();
    const upsert = await order.enter([exclusive('db.t')], 1000);
    const other = await order.enter([shared('db.u')], 1000);
    other();
    upsert();
  });

  it('gives up after its limit holding nothing, and lets those behind it in', async () => {
    const order = new InsertOrder();
    const insert = await order.enter([shared('db.t'), shared('db.u')], 1000);
    const upsert = order.enter([exclusive('db.u'), shared('db.t')], 30);
    const later = order.enter([shared('db.u')], 1000);
    await expect(upsert).rejects.toBeInstanceOf(InsertOrderTimeout);
    await expect(upsert).rejects.toThrow(/waited 30 ms for an upsert of db\.u/);
    (await later)();
    insert();
    // The timed-out upsert had entered db.t (name order) before waiting for db.u: it left it.
    expect(order.busy).toBe(0);
  });

  it('leaves each claim once, however often its leave is called', async () => {
    const order = new InsertOrder();
    const a = await order.enter([shared('db.t')], 1000);
    const b = await order.enter([shared('db.t')], 1000);
    a();
    a();
    const upsert = order.enter([exclusive('db.t')], 1000);
    expect(await settled(upsert)).toBe(false);
    b();
    (await upsert)();
    expect(order.busy).toBe(0);
  });

  it('takes a table named twice once, exclusively if either claim is', async () => {
    const order = new InsertOrder();
    const upsert = await order.enter([shared('db.t'), exclusive('db.t')], 50);
    await expect(order.enter([shared('db.t')], 20)).rejects.toBeInstanceOf(InsertOrderTimeout);
    upsert();
    expect(order.busy).toBe(0);
  });
});
