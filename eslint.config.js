// ESLint flat config: typescript-eslint's recommended rules, plus the rule that keeps the core browser-safe.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// The core must run unchanged in a browser or a Web Worker: it may not import any Node built-in. The rule is a folder
// rule: every folder of src/ is core except NODE_FOLDERS, where file, network and process code lives (the Node
// adapters in src/node (the Hub client's downloads and cache in src/node/hub), the command line and the server).
const NODE_FOLDERS = ['node', 'server', 'cli'];
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'site/**', 'bench/peers/node_modules/**', 'bench/peers/models/**', 'node_modules/**', 'build/**', 'src/engine/wasm/build/**', 'src/engine/wasm/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: NODE_FOLDERS.map((f) => `src/${f}/**`),
    rules: {
      'no-restricted-imports': ['error', { paths: nodeBuiltins.map((name) => ({ name, message: 'The core is browser-safe: no Node built-ins (put file/network code in an adapter).' })) }],
      'no-restricted-globals': ['error', { name: 'process', message: 'The core is browser-safe: no process.' }, { name: 'Buffer', message: 'The core is browser-safe: use Uint8Array.' }, { name: 'require', message: 'ESM only.' }],
    },
  },
);
