/**
 * A small PostgreSQL lexer: enough of the real grammar's lexical rules (strings with their
 * prefixes, quoted identifiers, dollar quoting, nested block comments) that a token check cannot be
 * fooled by text hidden inside a comment or a literal, nor by casing or quoting of a name.
 */

export type TokenKind =
  | 'word' // unquoted identifier or keyword; `value` is lower-cased as PostgreSQL folds it
  | 'quoted_ident' // "Name"; `value` is the identifier with "" unescaped, case kept
  | 'string' // '...', E'...', B'...', X'...', N'...', $tag$...$tag$; `value` is the body
  | 'number'
  | 'param' // $1
  | 'op' // operators: + - * / < > = ~ ! @ # % ^ & | ` ? and ::
  | 'punct'; // ( ) [ ] , ; . :

export interface Token {
  kind: TokenKind;
  value: string;
  /** Offset of the token's first character in the input. */
  start: number;
  /** True for strings and identifiers written with the U& (Unicode escape) prefix. */
  unicodeEscapes?: boolean;
}

/** The input cannot be tokenized (an unterminated literal or comment). */
export class SqlLexError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'SqlLexError';
  }
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
const OP_CHARS = '+-*/<>=~!@#%^&|`?';
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** Splits SQL text into tokens, dropping whitespace and comments. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i);
      continue;
    }
    const start = i;
    // String prefixes: E'..' (backslash escapes), B'..', X'..', N'..', U&'..'.
    if ((c === 'e' || c === 'E') && next === "'") {
      const { end, value } = readQuoted(sql, i + 1, "'", true);
      tokens.push({ kind: 'string', value, start });
      i = end;
      continue;
    }
    if ((c === 'b' || c === 'B' || c === 'x' || c === 'X' || c === 'n' || c === 'N') && next === "'") {
      const { end, value } = readQuoted(sql, i + 1, "'", false);
      tokens.push({ kind: 'string', value, start });
      i = end;
      continue;
    }
    if ((c === 'u' || c === 'U') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      const quote = sql[i + 2]!;
      const { end, value } = readQuoted(sql, i + 2, quote, false);
      tokens.push({ kind: quote === "'" ? 'string' : 'quoted_ident', value, start, unicodeEscapes: true });
      i = end;
      continue;
    }
    if (c === "'") {
      const { end, value } = readQuoted(sql, i, "'", false);
      tokens.push({ kind: 'string', value, start });
      i = end;
      continue;
    }
    if (c === '"') {
      const { end, value } = readQuoted(sql, i, '"', false);
      if (value.length === 0) throw new SqlLexError('zero-length quoted identifier', start);
      tokens.push({ kind: 'quoted_ident', value, start });
      i = end;
      continue;
    }
    if (c === '$') {
      if (next !== undefined && /[0-9]/.test(next)) {
        let j = i + 1;
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
        tokens.push({ kind: 'param', value: sql.slice(i, j), start });
        i = j;
        continue;
      }
      const m = DOLLAR_TAG.exec(sql.slice(i, i + 256));
      if (m) {
        const tag = m[0];
        const bodyStart = i + tag.length;
        const close = sql.indexOf(tag, bodyStart);
        if (close < 0) throw new SqlLexError('unterminated dollar-quoted string', start);
        tokens.push({ kind: 'string', value: sql.slice(bodyStart, close), start });
        i = close + tag.length;
        continue;
      }
      throw new SqlLexError('unexpected "$"', start);
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_CONT.test(sql[j]!)) j++;
      tokens.push({ kind: 'word', value: sql.slice(i, j).toLowerCase(), start });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j]!)) {
        // 1e-5 and 1E+5: a sign right after an exponent marker belongs to the number.
        if ((sql[j] === 'e' || sql[j] === 'E') && (sql[j + 1] === '-' || sql[j + 1] === '+')) j++;
        j++;
      }
      tokens.push({ kind: 'number', value: sql.slice(i, j), start });
      i = j;
      continue;
    }
    if (c === ':' && next === ':') {
      tokens.push({ kind: 'op', value: '::', start });
      i += 2;
      continue;
    }
    if ('()[],;.:'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, start });
      i++;
      continue;
    }
    if (OP_CHARS.includes(c)) {
      let j = i + 1;
      // An operator ends where a comment starts, as in PostgreSQL.
      while (
        j < n &&
        OP_CHARS.includes(sql[j]!) &&
        !(sql[j] === '-' && sql[j + 1] === '-') &&
        !(sql[j] === '/' && sql[j + 1] === '*')
      )
        j++;
      tokens.push({ kind: 'op', value: sql.slice(i, j), start });
      i = j;
      continue;
    }
    throw new SqlLexError(`unexpected character ${JSON.stringify(c)}`, start);
  }
  return tokens;
}

function skipBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  throw new SqlLexError('unterminated block comment', from);
}

/** Reads a quoted literal starting at the opening quote; a doubled quote is an escaped quote. */
function readQuoted(
  sql: string,
  open: number,
  quote: string,
  backslashEscapes: boolean,
): { end: number; value: string } {
  let i = open + 1;
  let value = '';
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') {
      value += sql.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { end: i + 1, value };
    }
    value += c;
    i++;
  }
  throw new SqlLexError(
    quote === '"' ? 'unterminated quoted identifier' : 'unterminated string literal',
    open,
  );
}

/** Groups tokens into statements at top-level semicolons; empty statements are dropped. */
export function splitStatements(tokens: readonly Token[]): Token[][] {
  const out: Token[][] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.value === ';') {
      if (current.length > 0) out.push(current);
      current = [];
    } else {
      current.push(t);
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** 1-based line and column of a character offset, for error messages about a file. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
