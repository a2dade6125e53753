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

describe('checkReadOnlyQuery (the syntax tree half; the catalog half runs in explain-query.test.ts)', () => {
  /** Refused from the tree alone, before any database is asked. */
  const STRUCTURAL = [
    'stacked',
    'data-modifying CTE',
    'update CTE',
    'select into',
    'for update',
    'for no key update',
    'for share',
    'comment hiding a semicolon',
    'line comment then statement',
    'dollar-quoted body',
    'insert statement',
    'copy',
    'E string then stacked',
    'nested comment',
    'values then stacked',
    'unterminated string',
    'unterminated comment',
    'empty',
    'do block',
    'explain itself',
    'txid',
    'query_to_xml',
    'current_setting sensitive',
    'current_setting computed',
  ];

  for (const [name, sql] of Object.entries(ESCAPES)) {
    it(`refuses or hands every call to the catalog check: ${name}`, async () => {
      const r = await checkReadOnlyQuery(sql);
      if (STRUCTURAL.includes(name)) expect(r.ok).toBe(false);
      else expect(r.ok && r.calls.functions.length > 0).toBe(true);
    });
  }

  it('sees a call however it is written: quoted, qualified, Unicode-escaped, commented', async () => {
    for (const sql of [
      `select "pg_sleep"(5)`,
      `select "pg_catalog"."pg_sleep"(5)`,
      `SeLeCt Pg_SlEeP(5)`,
      `select pg_sleep/* x */(5)`,
      `select U&"pg\\005Fsleep"(1)`,
      `select * from t, lateral pg_sleep(1) as s`,
      `with s as (select pg_sleep(5)) select * from s`,
    ]) {
      const r = await checkReadOnlyQuery(sql);
      expect(r.ok && r.calls.functions.some((f) => f[f.length - 1] === 'pg_sleep'), sql).toBe(true);
    }
  });

  it('collects operators, including the ones IN and BETWEEN imply, and cast targets', async () => {
    const r = await checkReadOnlyQuery(
      `select a::int8 from t where b @> c and d in (1, 2) and e between 1 and 2`,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.calls.operators).toEqual(expect.arrayContaining([['@>'], ['='], ['>='], ['<=']]));
    expect(r.calls.types).toContainEqual(['int8']);
  });

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
  ])('allows %s', async (sql) => {
    const r = await checkReadOnlyQuery(sql);
    expect(r).toMatchObject({ ok: true });
  });

  it('returns the statement alone, without its semicolon or a trailing comment', async () => {
    const r = await checkReadOnlyQuery(`select 1 ; -- done`);
    expect(r).toMatchObject({ ok: true, statement: 'select 1 ' });
  });

  it('names the position of a refusal in characters, not bytes', async () => {
    expect(await checkReadOnlyQuery(`select 'é'; select 2`)).toMatchObject({ ok: false, position: 12 });
    expect(await checkReadOnlyQuery(`select 'ééé' fromm t`)).toMatchObject({ ok: false, position: 19 });
  });

  it('refuses parameters', async () => {
    expect(await checkReadOnlyQuery(`select * from t where a = $1`)).toMatchObject({ ok: false });
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
