/**
 * Generates the README's tool table from the registry, between the `<!-- tools:start -->` and
 * `<!-- tools:end -->` markers. `--write` updates README.md; `--check` exits 1 when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import type { AnyTool } from '../src/tools/define-tool.js';
import { allTools } from '../src/tools/index.js';

export const START = '<!-- tools:start -->';
export const END = '<!-- tools:end -->';

/** A Markdown table of the tools, grouped by toolset in registry order. */
export function renderToolTable(tools: readonly AnyTool[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = tools.map(
    (t) => `| \`${t.name}\` | ${t.toolset} | ${t.effect} | ${t.risk} | ${cell(t.description)} |`,
  );
  return [
    '| Tool | Toolset | Effect | Risk | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * `readme` with the text between the markers replaced by `table`, formatted as `npm run format`
 * would, so that the generated README and the formatter agree.
 */
export async function withToolTable(readme: string, table: string): Promise<string> {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} block`);
  const text = `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
  return format(text, { ...(await resolveConfig(README_PATH)), parser: 'markdown' });
}

export const README_PATH = resolve(import.meta.dirname, '..', 'README.md');

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const current = readFileSync(README_PATH, 'utf8');
  const next = await withToolTable(current, renderToolTable(allTools));
  if (process.argv.includes('--write')) {
    if (next !== current) writeFileSync(README_PATH, next);
    console.log(next === current ? 'README.md tool table is current' : 'README.md tool table updated');
  } else if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md tool table is stale: run npm run tools:readme');
      process.exit(1);
    }
    console.log('README.md tool table is current');
  } else {
    console.log(renderToolTable(allTools));
  }
}
