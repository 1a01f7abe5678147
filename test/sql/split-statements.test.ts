import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/sql/lexer.js';
import { splitStatements } from '../../src/sql/split-statements.js';

/** Each statement's text, from its first token to its last. */
function split(sql: string): string[] {
  const { tokens } = tokenize(sql);
  return splitStatements(tokens).map(({ from, to }) => sql.slice(tokens[from]!.start, tokens[to - 1]!.end));
}

describe('splitting statements', () => {
  it('splits at semicolons', () => {
    expect(split('SELECT 1; SELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('does not split at a semicolon inside a string, a quoted name or a comment', () => {
    expect(split('SELECT \';\', ";", `;` /* ; */ -- ;\n; SELECT 2 # ;')).toEqual([
      'SELECT \';\', ";", `;`',
      'SELECT 2',
    ]);
  });

  it('drops empty statements and a trailing semicolon', () => {
    expect(split(';; SELECT 1;;; SELECT 2;')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('splits inside an executable comment, whose content is code', () => {
    expect(split('/*!40101 SET a = 1; SET b = 2 */')).toEqual(['SET a = 1', 'SET b = 2']);
  });

  it('keeps the body of a stored procedure whole', () => {
    const body = 'CREATE PROCEDURE p() BEGIN DECLARE x INT; IF x THEN SELECT 1; ELSE SELECT 2; END IF; END';
    expect(split(`${body}; SELECT 3`)).toEqual([body, 'SELECT 3']);
  });

  it('counts nested blocks, labels and CASE expressions in a body', () => {
    const body =
      'CREATE DEFINER=`a`@`%` FUNCTION f() RETURNS INT BEGIN l1: LOOP SET @x = CASE WHEN 1 THEN 2 ELSE 3 END; ' +
      'BEGIN SELECT 1; END; LEAVE l1; END LOOP l1; RETURN 1; END';
    expect(split(`${body}; SELECT 2`)).toEqual([body, 'SELECT 2']);
  });

  it('ends a program without BEGIN at its first semicolon', () => {
    expect(split('CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; SELECT 1')).toEqual([
      'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1',
      'SELECT 1',
    ]);
  });

  it("keeps MariaDB's compound statements outside programs whole", () => {
    expect(split('BEGIN NOT ATOMIC SELECT 1; SELECT 2; END; SELECT 3')).toEqual([
      'BEGIN NOT ATOMIC SELECT 1; SELECT 2; END',
      'SELECT 3',
    ]);
    expect(split('IF @x THEN SELECT 1; ELSE SELECT 2; END IF; SELECT 3')).toEqual([
      'IF @x THEN SELECT 1; ELSE SELECT 2; END IF',
      'SELECT 3',
    ]);
  });

  it('splits BEGIN as a transaction statement', () => {
    expect(split('BEGIN; UPDATE t SET a = 1; COMMIT')).toEqual(['BEGIN', 'UPDATE t SET a = 1', 'COMMIT']);
  });

  it('does not take CREATE TABLE event (...) for a stored event', () => {
    expect(split('CREATE TABLE event (id INT); SELECT 1')).toEqual([
      'CREATE TABLE event (id INT)',
      'SELECT 1',
    ]);
  });
});
