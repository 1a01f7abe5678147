import { describe, expect, it } from 'vitest';
import { deferredName, targetDdl } from '../../src/load/create-table.js';
import { DumpFilter } from '../../src/load/dump-filter.js';
import type { SourceTable } from '../../src/load/source-catalog.js';
import { afterKey } from '../../src/load/table-copy.js';

const SHOW_CREATE = [
  'CREATE TABLE `orders` (',
  '  `id` int(11) NOT NULL AUTO_INCREMENT,',
  '  `seq` int(11) NOT NULL,',
  '  `customer` int(11) DEFAULT NULL,',
  '  `email` varchar(50) NOT NULL,',
  '  PRIMARY KEY (`id`),',
  '  UNIQUE KEY `email` (`email`),',
  '  KEY `seq` (`seq`),',
  '  KEY `customer` (`customer`),',
  '  CONSTRAINT `fk_customer` FOREIGN KEY (`customer`) REFERENCES `customers` (`id`) ON DELETE CASCADE',
  ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci',
].join('\n');

function table(keyIndex = 'PRIMARY'): SourceTable {
  return {
    source: { schema: 'shop', table: 'orders' },
    target: { schema: 'shop_v2', table: 'orders_v2' },
    columns: [],
    key: ['id'],
    keyIndex,
    engine: 'InnoDB',
    rowsEstimate: 0,
    bytesEstimate: 0,
  };
}

const rename = {
  schemas: { shop: 'shop_v2' },
  tables: { 'shop.orders': 'orders_v2', 'shop.customers': 'clients' },
};

describe('the target CREATE TABLE', () => {
  it('names the target table and a renamed parent of a foreign key', () => {
    const ddl = targetDdl(SHOW_CREATE, table(), rename, false, 'id');
    expect(ddl.create).toMatch(/^CREATE TABLE IF NOT EXISTS `shop_v2`\.`orders_v2` \(/);
    expect(ddl.create).toContain('REFERENCES `clients` (`id`) ON DELETE CASCADE');
    expect(ddl.create).toMatch(/\) ENGINE=InnoDB/);
    expect(ddl.deferred).toEqual([]);
  });

  it('with deferred indexes keeps the key that chunks the table and moves the rest to one ALTER', () => {
    const ddl = targetDdl(SHOW_CREATE, table('email'), rename, true, 'seq');
    expect(ddl.create).toContain('PRIMARY KEY (`id`)');
    expect(ddl.create).toContain('UNIQUE KEY `email`');
    // An index that starts with the AUTO_INCREMENT column must stay (InnoDB requires one).
    expect(ddl.create).toContain('KEY `seq`');
    expect(ddl.create).not.toContain('KEY `customer`');
    expect(ddl.create).not.toMatch(/FOREIGN KEY/);
    expect(ddl.create).not.toMatch(/,\n\)/);
    expect(ddl.deferred).toEqual([
      'ADD KEY `customer` (`customer`)',
      'ADD CONSTRAINT `fk_customer` FOREIGN KEY (`customer`) REFERENCES `clients` (`id`) ON DELETE CASCADE',
    ]);
    expect(ddl.deferred.map(deferredName)).toEqual(['customer', 'fk_customer']);
  });
});

describe('the key range after a chunk', () => {
  it('is a plain comparison for one column', () => {
    expect(afterKey(['id'], ['42'])).toBe('`id` > 42');
  });

  it('is a range the optimizer can use for several columns', () => {
    expect(afterKey(['a', 'b', 'c'], ['1', "'x'", "X'00'"])).toBe(
      "`a` >= 1 AND ((`a` > 1) OR (`a` = 1 AND `b` > 'x') OR (`a` = 1 AND `b` = 'x' AND `c` > X'00'))",
    );
  });
});

async function filtered(chunks: string[], schemas: Record<string, string>) {
  const filter = new DumpFilter(schemas);
  const out: Buffer[] = [];
  filter.on('data', (d: Buffer) => out.push(d));
  const done = new Promise((r) => filter.on('end', r));
  for (const c of chunks) filter.write(Buffer.from(c));
  filter.end();
  await done;
  return { text: Buffer.concat(out).toString(), filter };
}

describe('the mysqldump stream filter', () => {
  it('renames schemas, keeps existing tables, captures the position, and passes rows through untouched', async () => {
    const row = `INSERT IGNORE INTO \`t\` VALUES (1,'${'y'.repeat(200)}'),(2,'USE \`shop\`');\n`;
    const dump = [
      "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000007', MASTER_LOG_POS=4242;\n",
      "-- SET GLOBAL gtid_slave_pos='0-1-99';\n",
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n',
      'USE `shop`;\n',
      'CREATE TABLE `t` (\n  `id` int NOT NULL\n);\n',
      row,
    ].join('');
    // Cut into 7-byte pieces, so that every line straddles chunk boundaries.
    const pieces = dump.match(/[\s\S]{1,7}/g) ?? [];
    const { text, filter } = await filtered(pieces, { shop: 'shop_v2' });
    expect(text).toContain('CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop_v2` /*!40100');
    expect(text).toContain('USE `shop_v2`;\n');
    expect(text).toContain('CREATE TABLE IF NOT EXISTS `t` (\n');
    expect(text.endsWith(row)).toBe(true);
    expect(filter.position).toEqual({ binlog: { file: 'mysql-bin.000007', position: 4242 }, gtid: '0-1-99' });
    expect(filter.bytes).toBe(Buffer.byteLength(dump));
  });
});
