import { describe, expect, it } from 'vitest';
import { READ_BUFFER_BYTES, ReadBuffers } from '../../src/backend/read-buffers.js';

describe('ReadBuffers', () => {
  it('reads into the same buffer while nothing holds on to it', () => {
    const b = new ReadBuffers();
    const first = b.next();
    expect(first.length).toBe(READ_BUFFER_BYTES);
    expect(b.next()).toBe(first);
    expect(b.next()).toBe(first);
  });

  it('never reads into a buffer that a pending write still references', () => {
    const b = new ReadBuffers();
    const first = b.next();
    b.lend();
    const second = b.next();
    expect(second).not.toBe(first);
    b.lend();
    const third = b.next();
    expect(third).not.toBe(first);
    expect(third).not.toBe(second);
    expect(b.lentCount).toBe(2);
  });

  it('reuses lent buffers once the writes that held them are done', () => {
    const b = new ReadBuffers();
    const first = b.next();
    b.lend();
    const second = b.next();
    b.released();
    expect(b.lentCount).toBe(0);
    expect(b.next()).toBe(second);
    b.lend();
    expect(b.next()).toBe(first);
  });
});
