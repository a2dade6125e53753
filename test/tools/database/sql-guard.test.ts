import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMigrationSql, checkReadOnlyQuery } from '../../../src/tools/database/sql-guard.js';
import { splitStatements, tokenize } from '../../../src/tools/database/sql-lexer.js';
import { ESCAPES } from './escape-attempts.js';

describe('sql lexer', () => {
  it('keeps strings, quoted identifiers, dollar quotes and comments out of the token stream', () => {
    const t = tokenize(`SELECT 'a;b', "X;y", $t$ ; $t$, E'\\';', 1.5e-3 /* ; /* ; */ ; */ -- ;\n FROM t`);
    expect(t.map((x) => `${x.kind}:${x.value}`)).toEqual([
      'word:select',
      'string:a;b',
      'punct:,',
      'quoted_ident:X;y',
      'punct:,',
      'string: ; ',
      'punct:,',
      "string:\\';",
      'punct:,',
      'number:1.5e-3',
      'word:from',
      'word:t',
    ]);
    expect(splitStatements(t)).toHaveLength(1);
  });

  it('splits statements only at top-level semicolons', () => {
    expect(splitStatements(tokenize(`select ';'; select $$;$$ ;;`))).toHaveLength(2);
  });

  it('never throws anything but a lex error and never loses a real semicolon', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'select',
            ' ',
            ';',
            "'",
            '"',
            '$$',
            '--',
            '\n',
            '/*',
            '*/',
            'x',
            '(',
            ')',
            'E',
            '$a$',
          ),
          { maxLength: 30 },
        ),
        (parts) => {
          const sql = parts.join('');
          try {
            tokenize(sql);
          } catch (e) {
            expect((e as Error).name).toBe('SqlLexError');
          }
        },
      ),
    );
  });
});

describe('checkReadOnlyQuery', () => {
  for (const [name, sql] of Object.entries(ESCAPES)) {
    it(`refuses: ${name}`, () => {
      const r = checkReadOnlyQuery(sql);
      expect(r.ok).toBe(false);
    });
  }

  it.each([
    [`select * from orders where customer_id = 42`],
    [
      `with recent as (select * from orders where created_at > now() - interval '1 day') select count(*) from recent`,
    ],
    [`values (1, 'a'), (2, 'b')`],
    [`table orders`],
    [`select 'pg_sleep(1); drop table x' as text, "drop" from t -- pg_read_file('x')`],
    [`select substring('abc' from 1 for 2)`],
    [`select current_setting('work_mem')`],
    [`(select 1) union all (select 2);`],
    [`select a from t where b in (select b from u) order by a limit 5 ;  `],
  ])('allows %s', (sql) => {
    const r = checkReadOnlyQuery(sql);
    expect(r).toMatchObject({ ok: true });
  });

  it('returns the statement without its trailing semicolon', () => {
    const r = checkReadOnlyQuery(`select 1 ; -- done`);
    expect(r).toEqual({ ok: true, statement: 'select 1 ', kind: 'select' });
  });

  it('names the position of a refused call', () => {
    const r = checkReadOnlyQuery(`select 1, pg_sleep(1)`);
    expect(r).toMatchObject({ ok: false, position: 10 });
  });
});

describe('checkMigrationSql', () => {
  it('accepts DDL and DML, including DO blocks and functions whose bodies mention COMMIT', () => {
    expect(
      checkMigrationSql(`create table a (id int); insert into a values (1);
      create function f() returns void language plpgsql as $$ begin raise notice 'commit;'; end $$;
      do $$ begin perform 1; end $$; savepoint s; rollback to savepoint s;`),
    ).toBeUndefined();
  });

  it.each([
    ['commit', 'create table a (id int); commit;'],
    ['begin', 'begin; create table a (id int);'],
    ['rollback', 'create table a (id int); rollback;'],
    ['concurrently', 'create index concurrently ix on a (id);'],
    ['vacuum', 'vacuum a;'],
    ['create database', 'create database x;'],
    ['alter system', "alter system set work_mem = '1MB';"],
  ])('refuses %s', (_name, sql) => {
    expect(checkMigrationSql(sql)).toBeDefined();
  });
});
