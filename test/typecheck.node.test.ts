// The sources type-check (strict). Rollup reports type errors only as warnings, so this is
// where a type error fails the suite, including a gradient rule or kernel missing from a
// typed table.

import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, test } from 'vitest';

test('tsc --noEmit -p tsconfig.json reports no errors', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const configPath = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json')!;
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, noEmit: true } });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.file ? ` (${d.file.fileName})` : ''));
  expect(diagnostics).toEqual([]);
}, 180_000);
