import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/**
 * Files `entry` (a path under src/) reaches through relative imports, static or dynamic; the
 * providers are left out, since it is their callers that are looked for.
 */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [resolve(SRC, entry)];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)\.js'/g)) {
      const target = resolve(dirname(file), `${m[1]}.ts`);
      if (existsSync(target) && !target.startsWith(resolve(SRC, 'providers'))) stack.push(target);
    }
  }
  return seen;
}

/**
 * The provider methods called (`.name(`) in the code the entries reach. A method of another
 * object with the same name counts too: the scan may find more than is called, never less.
 */
export function providerCallsReached(entries: readonly string[], methods: readonly string[]): string[] {
  const call = new RegExp(`\\.(${methods.join('|')})\\(`, 'g');
  const found = new Set<string>();
  for (const file of new Set(entries.flatMap((e) => [...reachable(e)])))
    for (const m of readFileSync(file, 'utf8').matchAll(call)) found.add(m[1]!);
  return [...found].sort();
}
