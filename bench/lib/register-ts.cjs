/**
 * Runs the benchmarks' TypeScript without ts-node: `node -r ./bench/lib/register-ts.cjs x.ts`.
 *
 * Why: ts-node loads node:repl, which loads node:domain, and once node:domain is loaded every
 * EventEmitter construction (each HTTP request and response, each HTTP/2 stream, each pg query)
 * goes through its slower hook. The built service (`node dist/src/main.js`) never loads it, so a
 * benchmark under ts-node measured a slower service than users run. This hook transpiles each
 * .ts file of the repository on its own with TypeScript's transpileModule, with the project's
 * compiler options: the same output as ts-node's transpile-only mode, without its REPL.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', '..');
const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const compilerOptions = {
  ...options,
  module: ts.ModuleKind.CommonJS,
  sourceMap: false,
  inlineSourceMap: false,
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
