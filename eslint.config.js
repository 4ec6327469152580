// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const ambientTime = 'Stage code takes time from the materializer scheduler (DESIGN: no ambient time); only the scheduler and socket edges may use it.'

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly', clearImmediate: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Library sources: no wall clock, no raw timers. The real scheduler and the TCP edge are the exceptions.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'packages/core/src/internal/scheduler.ts', 'packages/*/src/tcp/**', 'packages/testkit/src/**', 'packages/http/src/server/clock.ts' /* the Date header's wall clock */],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: ambientTime },
        { object: 'performance', property: 'now', message: ambientTime },
        { object: 'globalThis', property: 'setTimeout', message: ambientTime },
        { object: 'globalThis', property: 'setInterval', message: ambientTime },
      ],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: ambientTime },
        { name: 'setInterval', message: ambientTime },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: ambientTime }],
    },
  },
)
