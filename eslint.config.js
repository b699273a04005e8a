// Lint for kiln: typescript-eslint's recommended rules, prettier for layout, and the architecture's
// import boundaries (docs/architecture.md): core ← node ← {builder, firstboot}; builder and
// firstboot never import each other; shipped code never imports test code.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** no-restricted-imports for one layer: `forbidden` are the top-level trees it must not import from. */
const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map((tree) => ({ group: [`**/${tree}/**`, `${tree}/**`], message: `${why} (docs/architecture.md)` })) },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '.cache/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-duplicate-imports': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  layer(['core/**'], ['node', 'builder', 'firstboot', 'test'], 'core/ is the bottom layer: it imports no kiln tree'),
  layer(['node/**'], ['builder', 'firstboot', 'test'], 'node/ is the contract both programs share: it imports only core/'),
  layer(['builder/**'], ['firstboot', 'test'], 'the builder never imports the node agent: share through node/ or core/'),
  layer(['firstboot/**'], ['builder', 'test'], 'the node agent never imports the builder: share through node/ or core/'),
  {
    // one sink for terminal output, where the redaction layer runs (core/output.ts)
    files: ['core/**', 'node/**', 'builder/**', 'firstboot/**'],
    ignores: ['core/output.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.object.name='process'][object.property.name=/^(stdout|stderr)$/][property.name='write']",
          message: 'print through writeOut/writeErr (core/output.ts): they redact secrets',
        },
        {
          selector: "CallExpression[callee.object.name='console']",
          message: 'print through writeOut/writeErr (core/output.ts): they redact secrets',
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly' } },
  },
  prettier,
);
