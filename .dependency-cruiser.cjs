/**
 * day2's layering, checked by `npm run lint`. Parts of src/, lowest first; a part imports only
 * itself and the parts below it (server.ts at the root only hands off to src/cli/):
 *
 *   core ← config ← store, catalog ← providers ← contract ← guards ← tools ← resources, prompts
 *   providers ← sandbox;  everything ← server ← http ← cli
 */
const below = {
  core: [],
  config: ['core'],
  store: ['core', 'config'],
  catalog: ['core', 'config'],
  providers: ['core', 'config', 'store', 'catalog'],
  sandbox: ['core', 'config', 'store', 'catalog', 'providers'],
  contract: ['core', 'config', 'store', 'catalog', 'providers'],
  guards: ['core', 'config', 'store', 'catalog', 'providers', 'contract'],
  tools: ['core', 'config', 'store', 'catalog', 'providers', 'contract', 'guards'],
  resources: ['core', 'config', 'store', 'catalog', 'providers', 'contract', 'guards', 'tools'],
  prompts: ['core', 'config', 'store', 'catalog', 'providers', 'contract', 'guards', 'tools'],
  server: [
    'core',
    'config',
    'store',
    'catalog',
    'providers',
    'sandbox',
    'contract',
    'guards',
    'tools',
    'resources',
    'prompts',
  ],
};
below.http = [...below.server, 'server'];
below.cli = [...below.http, 'http'];
const parts = Object.keys(below);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...parts.map((part) => ({
      name: `layer-${part}`,
      comment: `src/${part} imports only ${below[part].length ? below[part].join(', ') : 'itself'} (see .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: `^src/${part}/` },
      to: {
        path: `^src/(?!(?:${[part, ...below[part]].join('|')})/)[^/]+/`,
      },
    })),
    {
      name: 'no-loose-files',
      comment: 'every module of src/ lives in a part',
      severity: 'error',
      from: {},
      to: { path: '^src/[^/]+\\.ts$' },
    },
    {
      name: 'src-not-from-tests',
      comment: 'src/ never imports tests, benchmarks or scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-circular',
      comment:
        'no import cycle that runs at load time (the layer rules already forbid any cycle between parts, type imports included)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
