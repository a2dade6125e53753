/**
 * The toolsets, by name, with no dependencies: the CLI and the config schema check names against
 * this list without loading any tool. A contract test holds it equal to the registry's toolsets.
 */
export const TOOLSETS = [
  'context',
  'approvals',
  'incidents',
  'secrets',
  'deploys',
  'database',
  'access',
  'cost',
] as const;

export type ToolsetName = (typeof TOOLSETS)[number];

/** Toolsets every session gets, whatever --toolsets says: the approval flow depends on them. */
export const ALWAYS_ON_TOOLSETS: readonly string[] = ['approvals'];

/**
 * What `day2 serve` serves when neither --toolsets nor day2.yaml chooses: the context and
 * incident tools an on-call conversation starts with (plus the always-on approvals). Every tool
 * definition costs model context on every turn; `--toolsets all` serves everything.
 */
export const DEFAULT_TOOLSETS: readonly ToolsetName[] = ['context', 'incidents', 'approvals'];

/** The word that selects every toolset. */
export const ALL_TOOLSETS = 'all';

/** Names `--toolsets` and the `toolsets` config key accept. */
export const TOOLSET_CHOICES = [...TOOLSETS, ALL_TOOLSETS] as const;

/** Names in `requested` that are not toolsets (nor `all`). */
export function unknownToolsets(requested: readonly string[]): string[] {
  return requested.filter((name) => !(TOOLSET_CHOICES as readonly string[]).includes(name));
}

/**
 * The toolsets a `day2 serve` session gets: those asked for (on the command line, else in
 * day2.yaml), else the defaults. `undefined` means every tool, which is what `all` asks for.
 */
export function servedToolsets(requested: readonly string[] | undefined): string[] | undefined {
  if (!requested?.length) return [...DEFAULT_TOOLSETS];
  if (requested.includes(ALL_TOOLSETS)) return undefined;
  return [...requested];
}
