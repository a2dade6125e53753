import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** `env` imported from the process module: process.env by another name. */
const envImports = ['process', 'node:process'].map((name) => ({
  name,
  importNames: ['env'],
  message: 'Only src/config and src/cli read the environment: take what you need as a parameter.',
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The sandbox keys its own fleet data; everything else may be handed a model's names.
    files: ['src/**/*.ts'],
    ignores: ['src/sandbox/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[computed=true][object.property.name=/^(environments|databases|prices)$/]:not([property.type='Literal'])",
          message:
            'Look configured names up with environmentConfig or ownEntry (src/config/lookup.ts): a name from a model may be "constructor" or "__proto__".',
        },
      ],
    },
  },
  {
    // The environment comes in once: the CLI hands it to src/config, and everything else is passed
    // what it needs. A part that read process.env could not run twice in one process, and a test
    // could not say what it sees.
    files: ['src/**/*.ts', 'server.ts'],
    ignores: ['src/config/**', 'src/cli/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Only src/config and src/cli read the environment: take what you need as a parameter (see Deps, BackendOptions, BuildRuntimeOptions).',
        },
      ],
      'no-restricted-imports': ['error', { paths: envImports }],
    },
  },
  {
    // Tools reach PostgreSQL through the provider (deps.backends.postgres), never a client of their own.
    files: ['src/tools/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...envImports,
            {
              name: 'pg',
              allowTypeImports: true,
              message:
                'Tools use deps.backends.postgres (withClient, readOnly, testLogin); only the provider builds pg clients.',
            },
          ],
        },
      ],
    },
  },
  { files: ['src/cli/**', 'bench/**', 'scripts/**'], rules: { 'no-console': 'off' } },
  {
    files: ['test/**', 'bench/**', 'scripts/**', '*.config.*'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
