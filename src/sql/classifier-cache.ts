import type { Classification } from './classification.js';
import { classifyShape } from './classify.js';
import { fingerprint } from './fingerprint.js';
import type { LexOptions } from './lexer.js';

export interface ClassifierCacheOptions {
  /** Statement shapes kept; the least recently used goes first. */
  readonly maxEntries?: number;
  /** Longer fingerprints are classified every time, so that the cache's memory stays bounded. */
  readonly maxFingerprintLength?: number;
}

export interface ClassifierCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Misses whose classification was `unknown` (counted once per shape while it stays cached). */
  readonly unknown: number;
  /** Statements too long to cache. */
  readonly uncacheable: number;
  readonly size: number;
}

/**
 * Classifications by fingerprint, least recently used out: a statement shape seen before
 * costs one pass of the lexer and a map lookup, no parse. The fingerprint keeps everything a
 * classification depends on, so a hit is exactly what classify() would return.
 */
export class ClassifierCache {
  private readonly entries = new Map<string, Classification>();
  private readonly maxEntries: number;
  private readonly maxFingerprintLength: number;
  private hits = 0;
  private misses = 0;
  private unknown = 0;
  private uncacheable = 0;

  constructor(options: ClassifierCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxFingerprintLength = options.maxFingerprintLength ?? 4096;
  }

  /** classify(), cached. `options` are the session's sql_mode flags that change lexing. */
  classify(sql: string, options?: LexOptions): Classification {
    const key = fingerprint(sql, options);
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      this.hits++;
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    this.misses++;
    const result = classifyShape(sql, key, options);
    if (result.unknown) this.unknown++;
    if (key.length > this.maxFingerprintLength) {
      this.uncacheable++;
      return result;
    }
    this.entries.set(key, result);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return result;
  }

  stats(): ClassifierCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      unknown: this.unknown,
      uncacheable: this.uncacheable,
      size: this.entries.size,
    };
  }

  clear(): void {
    this.entries.clear();
  }
}
