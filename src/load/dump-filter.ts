import { Transform, type TransformCallback } from 'node:stream';
import { quoteName } from './render-values.js';

/**
 * Edits a mariadb-dump stream on its way to the target, touching only the short statement
 * lines it must and passing every INSERT line (megabytes each) through as it comes:
 * - `CREATE DATABASE` and `USE` name the target's schema (the rename map);
 * - `CREATE TABLE` becomes `CREATE TABLE IF NOT EXISTS`, so that a table that dual writes
 *   already fill is kept (its rows are then inserted with INSERT IGNORE);
 * - the commented position lines of --master-data=2 / --gtid are captured for load-snapshot.json.
 */

/** A line is judged once this much of it is seen (every line the filter edits starts within it). */
const HEAD = 64;
const EDITED = /^(CREATE DATABASE|USE `|CREATE TABLE `|-- CHANGE MASTER TO|-- SET GLOBAL gtid_slave_pos)/;
const ROOM = [
  'CREATE DATABASE',
  'USE `',
  'CREATE TABLE `',
  '-- CHANGE MASTER TO',
  '-- SET GLOBAL gtid_slave_pos',
];

export interface DumpPosition {
  binlog: { file: string; position: number } | null;
  gtid: string | null;
}

export class DumpFilter extends Transform {
  readonly position: DumpPosition = { binlog: null, gtid: null };
  bytes = 0;
  #head: Buffer[] = [];
  #headLength = 0;
  #passing = false;

  constructor(private readonly schemas: Readonly<Record<string, string>>) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      const end = nl === -1 ? chunk.length : nl + 1;
      if (this.#passing) {
        this.push(chunk.subarray(at, end));
        if (nl !== -1) this.#passing = false;
      } else {
        this.#head.push(chunk.subarray(at, end));
        this.#headLength += end - at;
        if (nl !== -1) this.#flushLine();
        else if (this.#headLength >= HEAD && !this.#mayEdit()) {
          this.push(Buffer.concat(this.#head));
          this.#head = [];
          this.#headLength = 0;
          this.#passing = true;
        }
      }
      at = end;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#headLength > 0) this.#flushLine();
    done();
  }

  #mayEdit(): boolean {
    const start = Buffer.concat(this.#head).subarray(0, HEAD).toString('latin1');
    return ROOM.some((p) => start.startsWith(p));
  }

  #flushLine(): void {
    const raw = Buffer.concat(this.#head);
    this.#head = [];
    this.#headLength = 0;
    const line = raw.toString('utf8');
    this.push(EDITED.test(line) ? Buffer.from(this.#edit(line), 'utf8') : raw);
  }

  #rename(name: string): string {
    const plain = name.replace(/``/g, '`');
    return quoteName(this.schemas[plain] ?? plain);
  }

  #edit(line: string): string {
    const master = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)/.exec(line);
    if (master) this.position.binlog = { file: master[1]!, position: Number(master[2]) };
    const gtid = /^-- SET GLOBAL gtid_slave_pos='([^']*)'/.exec(line);
    if (gtid) this.position.gtid = gtid[1] || null;
    return line
      .replace(
        /^(CREATE DATABASE (?:\/\*!32312 IF NOT EXISTS\*\/ )?)`((?:[^`]|``)*)`/,
        (_a, p: string, n: string) => `${p}${this.#rename(n)}`,
      )
      .replace(/^USE `((?:[^`]|``)*)`/, (_a, n: string) => `USE ${this.#rename(n)}`)
      .replace(/^CREATE TABLE `/, 'CREATE TABLE IF NOT EXISTS `');
  }
}
