import type {
  ObjectName,
  SessionChange,
  StatementKind,
  TableRef,
  TransactionControl,
} from './classification.js';

/** A statement's classification while it is being worked out from its tokens. */
export interface Draft {
  kind: StatementKind;
  verb: string;
  unknown: boolean;
  implicitCommit: boolean;
  temporaryTable: boolean;
  insertSelect: boolean;
  ignore: boolean;
  tables: TableRef[];
  name?: ObjectName;
  transaction?: TransactionControl;
  session?: SessionChange;
  /** Index of the DML verb whose tables the parser and the token scan should find; -1 for none. */
  dmlVerb: number;
  /** Index of a query inside DDL (CREATE TABLE ... SELECT, CREATE VIEW ... AS SELECT); -1 for none. */
  query: number;
  /** EXPLAIN of a statement: where that statement starts (its tables are read; nothing runs); -1 for none. */
  explain: number;
  /** Defines a stored program, whose body runs later: its functions are not this statement's. */
  program: boolean;
  /** LOAD DATA LOCAL INFILE */
  localInfile: boolean;
}

export function draft(kind: StatementKind, verb: string, more: Partial<Draft> = {}): Draft {
  return {
    kind,
    verb,
    unknown: false,
    implicitCommit: false,
    temporaryTable: false,
    insertSelect: false,
    ignore: false,
    tables: [],
    dmlVerb: -1,
    query: -1,
    explain: -1,
    program: false,
    localInfile: false,
    ...more,
  };
}

export function unknownStatement(verb: string): Draft {
  return draft('write', verb, { unknown: true });
}
