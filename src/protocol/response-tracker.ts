import { CLIENT, COM, SERVER_STATUS } from './constants.js';
import { PacketReader } from './packet-reader.js';

/**
 * Follows the packets of one command's response, so that the proxy knows where it ends
 * without decoding rows. Shapes, per command:
 * - COM_QUERY, COM_STMT_EXECUTE, COM_PROCESS_INFO: OK | ERR | LOCAL INFILE request |
 *   result set (column count, column definitions, [EOF], rows, EOF or OK), repeated while
 *   SERVER_MORE_RESULTS_EXISTS is set. https://mariadb.com/kb/en/result-set-packets/
 * - COM_STMT_PREPARE: ERR | COM_STMT_PREPARE_OK, parameter definitions [EOF], column
 *   definitions [EOF]. https://mariadb.com/kb/en/com_stmt_prepare/
 * - COM_STMT_FETCH: rows, then EOF or OK, or ERR. https://mariadb.com/kb/en/com_stmt_fetch/
 * - COM_FIELD_LIST: column definitions until EOF, or ERR.
 * - COM_CHANGE_USER: the authentication exchange, until OK or ERR.
 * - COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA: no response.
 * - the rest: one packet.
 */

export type Verdict =
  /** More packets of this response follow. */
  | 'more'
  /** The response is complete. */
  | 'done'
  /** LOCAL INFILE request: the client sends file packets, ended by an empty one. */
  | 'infile'
  /** Authentication exchange: the client may answer before the server goes on. */
  | 'auth';

type State =
  | 'first'
  | 'columns'
  | 'columns-eof'
  | 'rows'
  | 'prepare-params'
  | 'prepare-params-eof'
  | 'prepare-columns'
  | 'prepare-columns-eof'
  | 'field-list'
  | 'auth'
  | 'single'
  | 'done';

/** Packets at least this long are never OK, ERR or EOF packets; the tracker needs only their first byte. */
export const ROW_ONLY_LENGTH = 256 * 1024;

export class ResponseTracker {
  private state: State;
  private remaining = 0;
  private prepareColumns = 0;
  private readonly deprecateEof: boolean;
  private readonly binary: boolean;
  /** Status flags from the last OK or EOF seen. */
  status = 0;
  /**
   * The last OK packet's payload (small), for callers that need affected rows or insert ids.
   * This and `error` are copies: the bytes the tracker reads may lie in a reused read buffer.
   */
  lastOk: Buffer | undefined;
  /** Set when the response ended with an ERR packet. */
  error: Buffer | undefined;
  /** The statement id, for COM_STMT_PREPARE. */
  statementId: number | undefined;
  resultSets = 0;
  /** Between a LOCAL INFILE request and the client's empty packet that ends the file. */
  awaitingInfile = false;

  constructor(
    readonly command: number,
    capabilities: number,
    private readonly cursor = false,
  ) {
    this.deprecateEof = (capabilities & CLIENT.DEPRECATE_EOF) !== 0;
    this.binary = command === COM.STMT_EXECUTE || command === COM.STMT_FETCH;
    this.state = initialState(command);
  }

  get expectsResponse(): boolean {
    return this.state !== 'done';
  }

  get isDone(): boolean {
    return this.state === 'done';
  }

  /**
   * One physical packet that starts a logical packet. `payload` is the whole payload when
   * `length` is under ROW_ONLY_LENGTH, else just its start.
   */
  onPacket(payload: Buffer, length: number): Verdict {
    return this.onPacketAt(payload, 0, payload.length, length);
  }

  /**
   * The same, with the payload given as `buf[start, end)`, so that the relay's hot path (rows,
   * column definitions) makes no slice: only packets whose content matters are cut out.
   */
  onPacketAt(buf: Buffer, start: number, end: number, length: number): Verdict {
    const first = start < end ? buf[start]! : -1;
    // The packets of a small result set are read in place; the rest (OK, ERR, prepare, ...) in
    // a view of their own.
    switch (this.state) {
      case 'first':
        // Fewer than 251 columns: the count is a one-byte int<lenenc>, no reader needed.
        if (first > 0x00 && first < 0xfb && this.command !== COM.STMT_PREPARE) {
          return this.startResultSet(first);
        }
        break;
      case 'columns':
        if (--this.remaining === 0) return this.afterColumns();
        return 'more';
      case 'columns-eof':
        if (end - start < 9) return this.afterColumnsEof(eofStatus(buf, start, end));
        break;
      case 'rows':
        if (first !== 0xff && first !== 0xfe) return 'more';
        if (first === 0xfe && !this.deprecateEof && length < 9) {
          this.status = eofStatus(buf, start, end);
          return this.endOfResult();
        }
        break;
    }
    return this.onWhole(buf.subarray(start, end), first, length);
  }

  private onWhole(payload: Buffer, first: number, length: number): Verdict {
    switch (this.state) {
      case 'first':
        return this.onFirst(first, payload, length);
      case 'columns':
        if (--this.remaining === 0) return this.afterColumns();
        return 'more';
      case 'columns-eof':
        return this.afterColumnsEof(eofOrOkStatus(payload));
      case 'rows':
        if (first === 0xff) return this.fail(payload);
        if (first === 0xfe && (this.deprecateEof ? length < 0xffffff : length < 9)) {
          this.status = eofOrOkStatus(payload);
          if (this.deprecateEof) this.lastOk = Buffer.from(payload);
          return this.endOfResult();
        }
        return 'more';
      case 'prepare-params':
        if (--this.remaining === 0) return this.afterPrepareParams();
        return 'more';
      case 'prepare-params-eof':
        return this.afterPrepareParamsEof();
      case 'prepare-columns':
        if (--this.remaining === 0) return this.deprecateEof ? this.finish() : this.to('prepare-columns-eof');
        return 'more';
      case 'prepare-columns-eof':
        return this.finish();
      case 'field-list':
        if (first === 0xff) return this.fail(payload);
        if (first === 0xfe && length < 0xffffff) return this.finish();
        return 'more';
      case 'auth':
        if (first === 0x00) {
          this.lastOk = Buffer.from(payload);
          return this.finish();
        }
        if (first === 0xff) return this.fail(payload);
        return 'auth';
      case 'single':
        if (first === 0xff) return this.fail(payload);
        if (first === 0x00) this.lastOk = Buffer.from(payload);
        return this.finish();
      case 'done':
        throw new Error('response packet after the end of the response');
    }
  }

  private onFirst(first: number, payload: Buffer, length: number): Verdict {
    if (first === 0xff) return this.fail(payload);
    if (this.command === COM.STMT_PREPARE) {
      if (first !== 0x00) throw new Error('unexpected COM_STMT_PREPARE response');
      const r = new PacketReader(payload, 1);
      this.statementId = r.int4();
      this.prepareColumns = r.int2();
      this.remaining = r.int2();
      return this.remaining > 0 ? this.to('prepare-params') : this.afterPrepareParamsEof();
    }
    if (first === 0x00 && length < ROW_ONLY_LENGTH) {
      this.lastOk = Buffer.from(payload);
      this.status = okStatus(payload);
      return this.endOfResult();
    }
    if (first === 0xfb && this.command === COM.QUERY) {
      this.awaitingInfile = true;
      return 'infile';
    }
    return this.startResultSet(new PacketReader(payload).lenencNumber());
  }

  /** A result set's column count packet: its column definitions follow. */
  private startResultSet(count: number): Verdict {
    this.resultSets++;
    this.remaining = count;
    return count > 0 ? this.to('columns') : this.afterColumns();
  }

  private afterColumns(): Verdict {
    if (this.deprecateEof) {
      // A cursor sends no rows after the metadata; MariaDB and MySQL then end it with an EOF
      // packet all the same, which carries SERVER_STATUS_CURSOR_EXISTS.
      return this.to(this.cursor ? 'columns-eof' : 'rows');
    }
    return this.to('columns-eof');
  }

  private afterColumnsEof(status: number): Verdict {
    this.status = status;
    if (this.cursor && status & SERVER_STATUS.CURSOR_EXISTS) return this.finish();
    return this.to('rows');
  }

  private afterPrepareParams(): Verdict {
    return this.deprecateEof ? this.afterPrepareParamsEof() : this.to('prepare-params-eof');
  }

  private afterPrepareParamsEof(): Verdict {
    if (this.prepareColumns === 0) return this.finish();
    this.remaining = this.prepareColumns;
    return this.to('prepare-columns');
  }

  private endOfResult(): Verdict {
    if (this.status & SERVER_STATUS.MORE_RESULTS_EXISTS) return this.to('first');
    return this.finish();
  }

  private fail(payload: Buffer): Verdict {
    this.error = Buffer.from(payload);
    return this.finish();
  }

  private to(state: State): Verdict {
    this.state = state;
    return 'more';
  }

  private finish(): Verdict {
    this.state = 'done';
    return 'done';
  }

  /** After the client's LOCAL INFILE data, the server answers as to a new statement. */
  afterInfile(): void {
    this.awaitingInfile = false;
    this.state = 'first';
  }

  get isBinary(): boolean {
    return this.binary;
  }
}

function initialState(command: number): State {
  switch (command) {
    case COM.QUERY:
    case COM.STMT_EXECUTE:
    case COM.PROCESS_INFO:
    case COM.STMT_PREPARE:
      return 'first';
    case COM.STMT_FETCH:
      return 'rows';
    case COM.FIELD_LIST:
      return 'field-list';
    case COM.CHANGE_USER:
      return 'auth';
    case COM.STMT_CLOSE:
    case COM.STMT_SEND_LONG_DATA:
    case COM.QUIT:
      return 'done';
    default:
      return 'single';
  }
}

function okStatus(payload: Buffer): number {
  const r = new PacketReader(payload, 1);
  r.lenencInt();
  r.lenencInt();
  return r.remaining >= 2 ? r.int2() : 0;
}

/**
 * Status of an EOF packet in `buf[start, end)`: int<1> 0xfe, int<2> warnings, int<2> status.
 * https://mariadb.com/kb/en/eof_packet/
 */
function eofStatus(buf: Buffer, start: number, end: number): number {
  return end - start >= 5 ? buf.readUInt16LE(start + 3) : 0;
}

/** Status of an EOF packet, or of the OK packet that replaces it under CLIENT_DEPRECATE_EOF. */
function eofOrOkStatus(payload: Buffer): number {
  if (payload.length < 9) return eofStatus(payload, 0, payload.length);
  return okStatus(payload);
}
