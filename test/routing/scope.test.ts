import { describe, expect, it } from 'vitest';
import { Scope } from '../../src/routing/scope.js';

describe('migration scope', () => {
  it('covers everything by default', () => {
    expect(new Scope(['*'], []).covers('any.table', undefined)).toBe(true);
  });

  it('matches schema and table patterns, with the session schema for bare names', () => {
    const scope = new Scope(['shop.*', '*.users'], ['shop.audit_*']);
    expect(scope.covers('shop.orders', undefined)).toBe(true);
    expect(scope.covers('orders', 'shop')).toBe(true);
    expect(scope.covers('crm.users', undefined)).toBe(true);
    expect(scope.covers('shop.audit_log', undefined)).toBe(false);
    expect(scope.covers('crm.notes', undefined)).toBe(false);
    expect(scope.covers('shopx.orders', undefined)).toBe(false);
  });

  it('calls a write outside only when every table it writes is outside', () => {
    const scope = new Scope(['shop.*'], []);
    expect(scope.allOutside(['crm.a', 'crm.b'], 'shop')).toBe(true);
    expect(scope.allOutside(['crm.a', 'orders'], 'shop')).toBe(false);
    expect(scope.allOutside([], 'crm')).toBe(false);
  });
});
