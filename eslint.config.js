// ESLint flat config: typescript-eslint's recommended rules, plus the rule that keeps the core browser-safe.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// The core (tokenizer, model, generation, engine) must run unchanged in a browser or a Web Worker:
// it may not import any Node built-in. File, network and process code lives in src/hub, src/cli, src/server
// and the src/**/node*.ts adapters.
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'build/**', 'src/engine/wasm/build/**', 'src/engine/wasm/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/tokenizer/**/*.ts', 'src/model/**/*.ts', 'src/generation/**/*.ts', 'src/engine/**/*.ts', 'src/index.ts', 'src/hub/names.ts'],
    ignores: ['src/**/node*.ts', 'src/**/*.node.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: nodeBuiltins.map((name) => ({ name, message: 'The core is browser-safe: no Node built-ins (put file/network code in an adapter).' })) }],
      'no-restricted-globals': ['error', { name: 'process', message: 'The core is browser-safe: no process.' }, { name: 'Buffer', message: 'The core is browser-safe: use Uint8Array.' }, { name: 'require', message: 'ESM only.' }],
    },
  },
);
