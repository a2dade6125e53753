import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The folders writeTree made in this test file; removed when its tests end. */
const trees: string[] = [];
afterAll(async () => {
  await Promise.all(trees.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Writes files under a fresh temporary folder (removed after the test file) and returns its path. */
export async function writeTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'day2-catalog-'));
  trees.push(root);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  }
  return root;
}

export function component(
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): string {
  const lines = ['apiVersion: backstage.io/v1alpha1', 'kind: Component', 'metadata:', `  name: ${name}`];
  if (Object.keys(annotations).length) {
    lines.push('  annotations:');
    for (const [k, v] of Object.entries(annotations)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  lines.push(`spec: ${JSON.stringify({ type: 'service', lifecycle: 'production', ...spec })}`);
  return lines.join('\n') + '\n';
}
