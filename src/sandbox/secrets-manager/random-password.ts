import { randomInt } from 'node:crypto';
import { invalidParameter } from './aws-error.js';

/** Options of GetRandomPassword, as the request names them. */
export interface RandomPasswordOptions {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeLowercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/**
 * Generates a password the way Secrets Manager documents it: 32 characters by default, upper and
 * lower case letters, digits and punctuation unless excluded, and (unless
 * RequireEachIncludedType is false) at least one character of every included type.
 */
export function generateRandomPassword(opts: RandomPasswordOptions): string {
  const length = opts.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw invalidParameter('Password length must be between 1 and 4096 characters.');
  }
  const excluded = new Set(opts.ExcludeCharacters ?? '');
  const keep = (chars: string) => [...chars].filter((c) => !excluded.has(c)).join('');
  const classes: string[] = [];
  if (!opts.ExcludeUppercase) classes.push(keep(UPPER));
  if (!opts.ExcludeLowercase) classes.push(keep(LOWER));
  if (!opts.ExcludeNumbers) classes.push(keep(DIGITS));
  if (!opts.ExcludePunctuation) classes.push(keep(PUNCTUATION));
  if (opts.IncludeSpace) classes.push(keep(' '));
  const usable = classes.filter((c) => c.length > 0);
  const alphabet = usable.join('');
  if (alphabet.length === 0) {
    throw invalidParameter('The password can not be generated because all the characters are excluded.');
  }
  const requireEach = opts.RequireEachIncludedType ?? true;
  if (requireEach && length < usable.length) {
    throw invalidParameter(
      `The password length must be at least ${usable.length} to include every required character type.`,
    );
  }
  const chars: string[] = [];
  if (requireEach) for (const c of usable) chars.push(pick(c));
  while (chars.length < length) chars.push(pick(alphabet));
  // Shuffle so that the required characters are not always at the front.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

function pick(chars: string): string {
  return chars[randomInt(chars.length)] as string;
}
