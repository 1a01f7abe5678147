/**
 * The sandbox's sample database `shop`: the source gets the tables and a few dozen rows, the
 * target the same tables empty, as at the start of a migration. Every table has an
 * auto-increment key and an `updated_at` column for the reconciler's update-time loop; the
 * types cover what migrations trip over: DECIMAL, DOUBLE, DATETIME(6) defaults, ENUM, JSON in
 * TEXT, non-ASCII text.
 *
 * Statements are kept one per string so they run without `multipleStatements`.
 */

export const SAMPLE_DATABASE = 'shop';

export const SAMPLE_TABLES = ['customers', 'products', 'orders', 'order_items'] as const;

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci';

export const SAMPLE_SCHEMA_SQL: readonly string[] = [
  `CREATE DATABASE IF NOT EXISTS ${SAMPLE_DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
  `CREATE TABLE IF NOT EXISTS ${SAMPLE_DATABASE}.customers (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(191) NOT NULL,
    name VARCHAR(100) NOT NULL,
    country CHAR(2) NOT NULL DEFAULT 'US',
    is_active TINYINT(1) NOT NULL DEFAULT 1,
    preferences TEXT NULL COMMENT 'JSON document',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    UNIQUE KEY uk_customers_email (email),
    KEY ix_customers_updated_at (updated_at)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS ${SAMPLE_DATABASE}.products (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(32) NOT NULL,
    title VARCHAR(200) NOT NULL,
    price DECIMAL(10,2) NOT NULL,
    weight_kg DOUBLE NULL,
    stock INT NOT NULL DEFAULT 0,
    attributes TEXT NULL COMMENT 'JSON document',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    UNIQUE KEY uk_products_sku (sku),
    KEY ix_products_updated_at (updated_at)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS ${SAMPLE_DATABASE}.orders (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id INT UNSIGNED NOT NULL,
    status ENUM('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
    total DECIMAL(12,2) NOT NULL DEFAULT 0.00,
    note VARCHAR(255) NULL,
    ordered_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    KEY ix_orders_customer (customer_id),
    KEY ix_orders_updated_at (updated_at),
    CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS ${SAMPLE_DATABASE}.order_items (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id BIGINT UNSIGNED NOT NULL,
    product_id INT UNSIGNED NOT NULL,
    quantity SMALLINT UNSIGNED NOT NULL DEFAULT 1,
    unit_price DECIMAL(10,2) NOT NULL,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    KEY ix_order_items_order (order_id),
    KEY ix_order_items_product (product_id),
    KEY ix_order_items_updated_at (updated_at),
    CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_order_items_product FOREIGN KEY (product_id) REFERENCES products (id)
  ) ${TABLE_OPTIONS}`,
];

type Row = readonly (string | number | null)[];

const CUSTOMERS: readonly Row[] = [
  ['ada@example.com', 'Ada Lovelace', 'GB', 1, '{"newsletter":true,"lang":"en"}'],
  ['alan@example.com', 'Alan Turing', 'GB', 1, '{"newsletter":false}'],
  ['grace@example.com', 'Grace Hopper', 'US', 1, '{"newsletter":true,"lang":"en","tags":["navy"]}'],
  ['zoe@example.com', 'Zoë Ångström', 'SE', 1, '{"lang":"sv"}'],
  ['jose@example.com', 'José Müller', 'DE', 1, null],
  ['li@example.com', '李小龙', 'CN', 1, '{"lang":"zh"}'],
  ['edsger@example.com', 'Edsger Dijkstra', 'NL', 0, '{}'],
  ['barbara@example.com', 'Barbara Liskov', 'US', 1, '{"newsletter":true}'],
  ['donald@example.com', "Donald 'Don' Knuth", 'US', 1, '{"quote":"premature \\"optimization\\""}'],
  ['margaret@example.com', 'Margaret Hamilton', 'US', 1, null],
];

const PRODUCTS: readonly Row[] = [
  ['KB-001', 'Mechanical keyboard', '89.90', 1.1, 40, '{"layout":"ISO","switch":"brown"}'],
  ['MS-002', 'Wireless mouse', '24.50', 0.09, 120, '{"dpi":1600}'],
  ['MN-003', '27" monitor', '249.00', 6.4, 15, '{"panel":"IPS","hz":144}'],
  ['CB-004', 'USB-C cable 1 m', '7.99', 0.03, 500, null],
  ['HS-005', 'Headset', '59.00', 0.3, 60, '{"mic":true}'],
  ['WC-006', 'Webcam 1080p', '39.95', 0.15, 0, '{"fps":30}'],
  ['DK-007', 'Docking station', '179.00', 0.45, 22, '{"ports":["hdmi","dp","usb-c"]}'],
  ['LP-008', 'Laptop stand', '34.00', 1.9, 35, null],
  ['SD-009', 'SSD 1 TB', '94.99', 0.05, 80, '{"nvme":true}'],
  ['MP-010', 'Mouse pad XXL', '19.00', 0.6, 200, '{"size":"900x400"}'],
  ['CH-011', 'Office chair', '329.00', 17.5, 5, '{"color":"black"}'],
  ['LM-012', 'Desk lamp', '0.10', 0.8, 9999, '{"promo":true}'],
];

interface SampleOrder {
  readonly customer: number;
  readonly status: 'new' | 'paid' | 'shipped' | 'cancelled';
  readonly note: string | null;
  readonly at: string;
  /** product id: quantity */
  readonly items: Readonly<Record<number, number>>;
}

const ORDERS: readonly SampleOrder[] = [
  { customer: 1, status: 'shipped', note: null, at: '2024-01-05 09:12:30.123456', items: { 1: 1, 2: 1 } },
  { customer: 2, status: 'paid', note: 'gift wrap', at: '2024-01-06 14:00:00.000000', items: { 3: 2 } },
  {
    customer: 3,
    status: 'shipped',
    note: null,
    at: '2024-01-07 08:30:00.500000',
    items: { 4: 3, 5: 1, 10: 1 },
  },
  {
    customer: 4,
    status: 'new',
    note: 'leave at the door',
    at: '2024-01-08 19:45:10.000001',
    items: { 6: 1 },
  },
  { customer: 5, status: 'cancelled', note: null, at: '2024-01-09 11:11:11.111111', items: { 7: 1, 9: 2 } },
  {
    customer: 6,
    status: 'paid',
    note: '请小心轻放',
    at: '2024-01-10 23:59:59.999999',
    items: { 8: 1, 12: 4 },
  },
  { customer: 1, status: 'new', note: null, at: '2024-02-01 00:00:00.000000', items: { 9: 1, 4: 2 } },
  {
    customer: 8,
    status: 'shipped',
    note: null,
    at: '2024-02-14 12:00:00.250000',
    items: { 11: 1, 1: 1, 2: 2 },
  },
  { customer: 9, status: 'paid', note: "it's urgent", at: '2024-02-29 06:06:06.060606', items: { 3: 1 } },
  {
    customer: 10,
    status: 'new',
    note: null,
    at: '2024-03-01 10:10:10.101010',
    items: { 5: 2, 10: 3, 12: 1 },
  },
];

function literal(value: string | number | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function values(rows: readonly Row[]): string {
  return rows.map((row) => `(${row.map(literal).join(', ')})`).join(',\n  ');
}

/** Fixed times, so that every sandbox starts from the same rows. */
const LOADED_AT = '2024-01-01 00:00:00.000000';

function sampleDataSql(): string[] {
  const priceOf = (productId: number): string => String(PRODUCTS[productId - 1]?.[2] ?? '0.00');
  const orderRows: Row[] = [];
  const itemRows: Row[] = [];
  ORDERS.forEach((order, i) => {
    const items = Object.entries(order.items).map(([product, qty]) => [Number(product), qty] as const);
    const cents = items.reduce(
      (sum, [product, qty]) => sum + Math.round(Number(priceOf(product)) * 100) * qty,
      0,
    );
    orderRows.push([order.customer, order.status, (cents / 100).toFixed(2), order.note, order.at, order.at]);
    for (const [product, qty] of items) itemRows.push([i + 1, product, qty, priceOf(product), order.at]);
  });
  const stamped = (rows: readonly Row[]): Row[] => rows.map((row) => [...row, LOADED_AT, LOADED_AT]);
  const db = SAMPLE_DATABASE;
  return [
    `INSERT INTO ${db}.customers (email, name, country, is_active, preferences, created_at, updated_at) VALUES
  ${values(stamped(CUSTOMERS))}`,
    `INSERT INTO ${db}.products (sku, title, price, weight_kg, stock, attributes, created_at, updated_at) VALUES
  ${values(stamped(PRODUCTS))}`,
    `INSERT INTO ${db}.orders (customer_id, status, total, note, ordered_at, updated_at) VALUES
  ${values(orderRows)}`,
    `INSERT INTO ${db}.order_items (order_id, product_id, quantity, unit_price, updated_at) VALUES
  ${values(itemRows)}`,
  ];
}

/** What the source gets: the schema and its rows. */
export function sourceSampleSql(): string[] {
  return [...SAMPLE_SCHEMA_SQL, ...sampleDataSql()];
}

/** What the target gets: the same schema, no rows. */
export function targetSampleSql(): string[] {
  return [...SAMPLE_SCHEMA_SQL];
}
