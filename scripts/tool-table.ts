/**
 * Generates the README's tool table and its resource and prompt table from the registry, between
 * the `<!-- tools:start -->` … `<!-- tools:end -->` and `<!-- resources:start -->` …
 * `<!-- resources:end -->` markers. `--write` updates README.md; `--check` exits 1 when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import type { PromptDefinition } from '../src/contract/define-prompt.js';
import { allPrompts } from '../src/prompts/index.js';
import type { ResourceDefinition } from '../src/contract/define-resource.js';
import { allResources } from '../src/resources/index.js';
import type { AnyTool } from '../src/contract/define-tool.js';
import { allTools } from '../src/tools/index.js';

export const START = '<!-- tools:start -->';
export const END = '<!-- tools:end -->';
const RESOURCES_START = '<!-- resources:start -->';
const RESOURCES_END = '<!-- resources:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * A Markdown table of the tools, grouped by toolset in registry order. Titles are for people, so
 * they live here: tools/list leaves them out (see toolDefinition).
 */
export function renderToolTable(tools: readonly AnyTool[]): string {
  const rows = tools.map(
    (t) =>
      `| \`${t.name}\` | ${cell(t.title)} | ${t.toolset} | ${t.effect} | ${t.risk} | ${cell(t.description)} |`,
  );
  return [
    '| Tool | Title | Toolset | Effect | Risk | Description |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** A Markdown table of the resources (templates with their URI template) and one of the prompts. */
export function renderResourceTable(
  resources: readonly ResourceDefinition[],
  prompts: readonly PromptDefinition[],
): string {
  return [
    '| Resource | Description |',
    '| --- | --- |',
    ...resources.map((r) => {
      const uri = 'uri' in r ? r.uri : r.uriTemplate;
      const sub = r.subscribable ? ' Subscribable on stdio: a change is announced.' : '';
      return `| \`${uri}\` | ${cell(r.description)}${sub} |`;
    }),
    '',
    '| Prompt | Description |',
    '| --- | --- |',
    ...prompts.map((p) => `| \`${p.name}\` | ${cell(p.description)} |`),
  ].join('\n');
}

/**
 * `readme` with the text between each pair of markers replaced by its table, formatted as
 * `npm run format` would, so that the generated README and the formatter agree.
 */
export async function withGeneratedTables(readme: string): Promise<string> {
  let text = readme;
  for (const [open, close, table] of [
    [START, END, renderToolTable(allTools)],
    [RESOURCES_START, RESOURCES_END, renderResourceTable(allResources, allPrompts)],
  ] as const) {
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md has no ${open} … ${close} block`);
    text = `${text.slice(0, start + open.length)}\n${table}\n${text.slice(end)}`;
  }
  return format(text, { ...(await resolveConfig(README_PATH)), parser: 'markdown' });
}

export const README_PATH = resolve(import.meta.dirname, '..', 'README.md');

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const current = readFileSync(README_PATH, 'utf8');
  const next = await withGeneratedTables(current);
  if (process.argv.includes('--write')) {
    if (next !== current) writeFileSync(README_PATH, next);
    console.log(next === current ? 'README.md tables are current' : 'README.md tables updated');
  } else if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md tables are stale: run npm run tools:readme');
      process.exit(1);
    }
    console.log('README.md tables are current');
  } else {
    console.log(`${renderToolTable(allTools)}\n\n${renderResourceTable(allResources, allPrompts)}`);
  }
}
