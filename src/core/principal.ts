import { userInfo } from 'node:os';

/** Who is acting: a person or service account, plus the MCP client and transport it came through. */
export interface Principal {
  id: string;
  client?: string;
  transport: 'stdio' | 'http' | 'cli' | 'internal';
  session?: string;
}

/**
 * The identity of a local user (stdio server or CLI approver): DAY2_PRINCIPAL, else the configured
 * principal, else the OS user. Only as strong as the machine account; the README says so.
 */
export function localPrincipalId(env: NodeJS.ProcessEnv, configured?: string): string {
  const fromEnv = env.DAY2_PRINCIPAL?.trim();
  if (fromEnv) return fromEnv;
  if (configured) return configured;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Letters from other scripts that render like Latin ones, mapped to the Latin letter (lower case,
 * applied after case folding). Fullwidth and mathematical forms need no entry: NFKC folds them.
 */
const LOOKALIKES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  ѕ: 's',
  т: 't',
  у: 'y',
  ѵ: 'v',
  ԝ: 'w',
  х: 'x',
  ү: 'y',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
  ϳ: 'j',
  // Latin letters that pass NFKC and case folding unchanged but read as a plain letter
  ı: 'i',
  ȷ: 'j',
  ɡ: 'g',
  ɑ: 'a',
  ɩ: 'i',
  ʏ: 'y',
  // Dashes and the minus sign that read as a hyphen
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
};
const LOOKALIKE = new RegExp(`[${Object.keys(LOOKALIKES).join('')}]`, 'gu');

/** Characters that do not render: format controls (zero-width space and joiners, bidi marks, BOM) and other default-ignorables. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * The one form in which principals are compared, wherever separation of duties or identity is
 * decided (requester vs approver, approver vs approver, excluded grantees, approver keys, the
 * approval page, token redemption, configured names): Unicode NFKC (fullwidth and other
 * compatibility forms become plain letters), invisible characters removed, surrounding space
 * trimmed, case folded, and Cyrillic/Greek look-alikes of Latin letters mapped to Latin. Records
 * keep the name as given; only comparisons use this form.
 */
export function canonicalPrincipal(id: string): string {
  const folded = id.normalize('NFKC').replace(INVISIBLE, '').trim().toUpperCase().toLowerCase();
  // NFKC again: case mapping can produce compatibility characters (rare, but cheap to close).
  return folded.normalize('NFKC').replace(LOOKALIKE, (c) => LOOKALIKES[c] ?? c);
}

/** Whether two principal names are the same principal (in canonical form). */
export function samePrincipal(a: string, b: string): boolean {
  return canonicalPrincipal(a) === canonicalPrincipal(b);
}
