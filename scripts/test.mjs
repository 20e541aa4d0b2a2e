// `npm test`: builds what is stale, runs the `node` test project, then the `browser` project in
// a headless Chromium, and ends with one summary line totalled over both:
//
//   N passed, N failed[, N skipped]
//
// The exit status is non-zero if anything failed. Arguments are passed to vitest as file
// filters: `npm test -- test/backend/gemm` runs that file in Node and in Chromium.
//
// Chromium is located by test/setup/chromium.mjs ($CHROMIUM_PATH, /usr/bin/chromium, or
// chromium / chromium-browser / google-chrome on $PATH). Without one the browser project is
// SKIPPED with instructions; with CI=true a missing browser counts as a failure, so CI cannot
// pass without the browser half of the suite.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium, INSTALL_HINT } from '../test/setup/chromium.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
process.chdir(ROOT);

const CI = /^(true|1)$/i.test(process.env.CI ?? '');
const filters = process.argv.slice(2);

// ---- Build ----------------------------------------------------------------------------------

const WASM_MODULE = 'src/backend/wasm/binary.generated.ts';
const WASM_INPUTS = [
  'assembly', 'src/backend/opcodes.ts', 'src/backend/blocking.ts', 'asconfig.json',
  'scripts/build-wasm.mjs',
];
const BUNDLE_OUTPUTS = [
  'dist/kerasm.js', 'dist/kerasm.cjs', 'dist/kerasm.d.ts', 'dist/kerasm.d.cts',
];
const BUNDLE_INPUTS = ['src', 'rollup.config.mjs', 'tsconfig.json', 'package.json'];

/** Every file under `paths` (files or directories). */
function filesUnder(paths) {
  const files = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path, { recursive: true })) {
        const file = join(path, entry);
        if (statSync(file).isFile()) files.push(file);
      }
    } else {
      files.push(path);
    }
  }
  return files;
}

/** Why `outputs` need rebuilding from `inputs`, or null if they are up to date. */
function staleness(outputs, inputs) {
  const missing = outputs.find((file) => !existsSync(file));
  if (missing) return `${missing} is missing`;
  const oldest = outputs.reduce((a, b) => (statSync(a).mtimeMs <= statSync(b).mtimeMs ? a : b));
  const builtAt = statSync(oldest).mtimeMs;
  const newer = filesUnder(inputs).find(
    (file) => !outputs.includes(file) && statSync(file).mtimeMs > builtAt,
  );
  return newer ? `${oldest} is older than ${newer}` : null;
}

function npmRun(script) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return spawnSync(npm, ['run', script], { stdio: 'inherit' }).status === 0;
}

function build() {
  const wasmReason = staleness([WASM_MODULE], WASM_INPUTS);
  if (wasmReason) {
    console.log(`Building the wasm kernels (${wasmReason}).`);
    if (!npmRun('build:wasm')) return false;
  }
  const bundleReason = staleness(BUNDLE_OUTPUTS, BUNDLE_INPUTS);
  if (bundleReason) {
    console.log(`Building the bundle (${bundleReason}).`);
    if (!npmRun('build:bundle')) return false;
  }
  return true;
}

// ---- Test projects --------------------------------------------------------------------------

const VITEST = join(
  createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs',
);

/**
 * Runs one vitest project and counts its results from the JSON report. A file that fails
 * before its tests run (an import error, a failing hook) counts as one failure, and so does a
 * vitest run that fails without any failure in its report (an unhandled error, a crash).
 */
function runProject(name, env, reportDir) {
  console.log(`\n==> vitest project "${name}"\n`);
  const report = join(reportDir, `${name}.json`);
  const args = [
    VITEST, 'run', '--project', name,
    '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
    ...(filters.length > 0 ? ['--passWithNoTests', ...filters] : []),
  ];
  const { status, signal } = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  const counts = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    counts.passed = json.numPassedTests;
    counts.failed = json.numFailedTests;
    counts.skipped = json.numPendingTests + json.numTodoTests;
    for (const file of json.testResults) {
      const hasFailedTest = file.assertionResults.some((test) => test.status === 'failed');
      if (file.status === 'failed' && !hasFailedTest) {
        counts.failed += 1;
        console.error(`[${name}] ${relative(ROOT, file.name)} failed outside its tests`);
      }
    }
  }
  if (status !== 0 && counts.failed === 0) {
    counts.failed = 1;
    console.error(
      `[${name}] vitest exited with ${signal ?? `status ${status}`} without a failed test in its ` +
        'report (see the errors above); counted as one failure',
    );
  }
  return counts;
}

function banner(lines) {
  const rule = '='.repeat(78);
  console.error(['', rule, ...lines, rule, ''].join('\n'));
}

// ---- Main -----------------------------------------------------------------------------------

const total = { passed: 0, failed: 0, skipped: 0 };
const add = (counts) => {
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
};

if (!build()) {
  console.error('\nThe build failed, so no tests ran.');
  total.failed += 1;
} else {
  const reportDir = mkdtempSync(join(tmpdir(), 'kerasm-test-'));
  try {
    add(runProject('node', process.env, reportDir));
    const chromium = findChromium();
    if (chromium.path) {
      add(runProject('browser', { ...process.env, CHROMIUM_PATH: chromium.path }, reportDir));
    } else {
      const lines = [
        'Browser tests SKIPPED: no Chromium found.',
        `Looked at: ${chromium.tried.join(', ')}.`,
        `To run them, ${INSTALL_HINT}.`,
      ];
      if (CI) {
        lines.push('CI=true: the browser tests are required in CI, so this counts as a failure.');
        total.failed += 1;
      }
      banner(lines);
    }
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : '';
console.log(`\n${total.passed} passed, ${total.failed} failed${skipped}`);
process.exitCode = total.failed > 0 ? 1 : 0;
