import { describe, expect, it } from 'vitest';
import { renameForTarget } from '../../src/sql/rename.js';

const map = { schemas: { shop: 'shop_v2' }, tables: { 'shop.orders': 'orders_new' } };

describe('renaming for the target', () => {
  it.each([
    ['SELECT * FROM shop.customers', 'SELECT * FROM `shop_v2`.customers'],
    ['SELECT * FROM `shop`.`orders` o', 'SELECT * FROM `shop_v2`.`orders_new` o'],
    [
      'UPDATE orders SET n = 1 WHERE orders.id = 2',
      'UPDATE `orders_new` SET n = 1 WHERE `orders_new`.id = 2',
    ],
    ['INSERT INTO orders (id) VALUES (1)', 'INSERT INTO `orders_new` (id) VALUES (1)'],
    [
      'SELECT orders FROM customers, orders WHERE x = 1',
      'SELECT orders FROM customers, `orders_new` WHERE x = 1',
    ],
    ['USE shop', 'USE `shop_v2`'],
    ['CREATE DATABASE shop', 'CREATE DATABASE `shop_v2`'],
    ['DROP SCHEMA IF EXISTS shop', 'DROP SCHEMA IF EXISTS `shop_v2`'],
    ['CREATE TABLE orders (id INT)', 'CREATE TABLE `orders_new` (id INT)'],
    [
      "SELECT 'shop.orders', orders FROM t -- FROM orders",
      "SELECT 'shop.orders', orders FROM t -- FROM orders",
    ],
    ['DELETE FROM crm.orders', 'DELETE FROM crm.orders'],
  ])('%s', (sql, expected) => {
    expect(renameForTarget(sql, map, 'shop')).toBe(expected);
  });
});
