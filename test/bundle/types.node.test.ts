// The published declarations as TypeScript users see them: `import` and `require` of 'kerasm'
// resolved through package.json `exports` (a package may import itself by name), under every
// module resolution a current project uses, with the declaration files themselves checked too
// (no skipLibCheck). Needs `npm run build`.

import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const ESM_CONSUMER = fileURLToPath(new URL('./fixtures/consumer.mts', import.meta.url));
const CJS_CONSUMER = fileURLToPath(new URL('./fixtures/consumer.cts', import.meta.url));

const CASES: { resolution: string; options: ts.CompilerOptions; files: string[] }[] = [
  {
    resolution: 'nodenext',
    options: {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    },
    files: [ESM_CONSUMER, CJS_CONSUMER],
  },
  {
    resolution: 'node16',
    options: {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
    },
    files: [ESM_CONSUMER, CJS_CONSUMER],
  },
  {
    resolution: 'bundler',
    options: {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    },
    files: [ESM_CONSUMER],
  },
];

// One compiler host for every case, so the standard library is parsed once.
const host = ts.createCompilerHost({});
const parsed = new Map<string, ts.SourceFile | undefined>();
const getSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, language, ...rest) => {
  const key = `${fileName}|${JSON.stringify(language)}`;
  if (!parsed.has(key)) parsed.set(key, getSourceFile(fileName, language, ...rest));
  return parsed.get(key);
};

function formatDiagnostic(d: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (!d.file || d.start === undefined) return text;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${d.file.fileName}:${line + 1}:${character + 1}: ${text}`;
}

describe('the published types', () => {
  test.each(CASES)('type-check with moduleResolution $resolution', ({ files, options }) => {
    const program = ts.createProgram(files, {
      ...options,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      types: [],
      // kerasm's declarations are checked too; only TypeScript's own lib files are not.
      skipLibCheck: false,
      skipDefaultLibCheck: true,
    }, host);
    const resolvedTo = files.map((file) => {
      const mode = program.getModeForResolutionAtIndex(program.getSourceFile(file)!, 0);
      return ts.resolveModuleName('kerasm', file, program.getCompilerOptions(), host, undefined,
        undefined, mode).resolvedModule?.resolvedFileName;
    });
    expect(resolvedTo, "the declaration file that 'kerasm' resolves to").toEqual(
      files.map((file) => fileURLToPath(new URL(
        file.endsWith('.cts') ? '../../dist/kerasm.d.cts' : '../../dist/kerasm.d.ts',
        import.meta.url,
      ))),
    );
    expect(ts.getPreEmitDiagnostics(program).map(formatDiagnostic)).toEqual([]);
  });
});
