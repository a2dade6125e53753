/**
 * The package's entry: `node dist/server.js [serve flags]` serves day2, as `day2 serve` does.
 * Everything lives under src/: the wiring in src/cli/serve.ts, the server in src/server/.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { serve, type ServeHandle, type ServeOptions, type ServeExtras } from './src/cli/serve.js';

function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void import('./src/cli/main.js').then(async ({ main }) => {
    const code = await main(['serve', ...process.argv.slice(2)]);
    if (code !== 0) process.exit(code);
  });
}
