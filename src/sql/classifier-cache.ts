import type { Classification } from './classification.js';
import { classifyShape } from './classify.js';
import { fingerprint } from './fingerprint.js';
import type { LexOptions } from './lexer.js';

export interface ClassifierCacheOptions {
  /** Statement shapes kept; the least recently used goes first. */
  readonly maxEntries?: number;
  /** Longer fingerprints are classified every time, so that the cache's memory stays bounded. */
  readonly maxFingerprintLength?: number;
  /**
   * Called on a miss that classifies as `unknown`: once per statement shape while it stays
   * cached, so that it can be logged once per fingerprint.
   */
  readonly onUnknown?: (classification: Classification) => void;
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
  private readonly entries = new Map<string, Entry>();
  /** Counts insertions and refreshes; an entry's `stamp` is this counter when it was last moved to the back. */
  private clock = 0;
  private readonly maxEntries: number;
  private readonly maxFingerprintLength: number;
  private readonly onUnknown: ((classification: Classification) => void) | undefined;
  private hits = 0;
  private misses = 0;
  private unknown = 0;
  private uncacheable = 0;

  constructor(options: ClassifierCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxFingerprintLength = options.maxFingerprintLength ?? 4096;
    this.onUnknown = options.onUnknown;
  }

  /** classify(), cached. `options` are the session's sql_mode flags that change lexing. */
  classify(sql: string, options?: LexOptions): Classification {
    const key = fingerprint(sql, options);
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      this.hits++;
      // Map keeps insertion order, so re-inserting makes an entry the most recently used. Only
      // entries in the older half are moved: a hot shape costs a lookup, and what is evicted
      // is still among the least recently used half.
      if (this.clock - cached.stamp > this.maxEntries >> 1) {
        this.entries.delete(key);
        cached.stamp = ++this.clock;
        this.entries.set(key, cached);
      }
      return cached.classification;
    }
    this.misses++;
    const result = classifyShape(sql, key, options);
    if (result.unknown) {
      this.unknown++;
      this.onUnknown?.(result);
    }
    if (key.length > this.maxFingerprintLength) {
      this.uncacheable++;
      return result;
    }
    this.entries.set(key, { classification: result, stamp: ++this.clock });
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

interface Entry {
  readonly classification: Classification;
  stamp: number;
}
