import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes files under a fresh temporary folder and returns its path. */
export async function writeTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'day2-catalog-'));
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
