// kerasm's benchmark: the same workloads on kerasm, tfjs-backend-wasm and tfjs-backend-cpu
// (kernels, and training through tfjs-layers) and jax-js (training), in one Node process, on
// the same inputs, each result checked against a float64 reference. Matmul is measured again
// with relaxed SIMD in a child process, since Node 20 enables relaxed SIMD only behind a V8
// flag. See bench/README.md.
//
//   npm run bench [-- --quick] [-- --only matmul] [-- --only train] [-- --only search]
//                 [-- --json results.json]
//
// Exit status: 0 when every result matched its reference (whatever the targets say, and
// whatever a peer library could not run), 1 when a result mismatched or kerasm crashed, 2 on
// bad options.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMPL_NAMES, prepare } from './impls/index.mjs';
import { parseArgs } from './lib/cli.mjs';
import { describeError, runWorkload } from './lib/harness.mjs';
import { describeMachine } from './lib/machine.mjs';
import { hasThreadCpuClock, policies } from './lib/measure.mjs';
import { targetTable, workloadTable, writeJson } from './lib/report.mjs';
import { evaluateTargets } from './targets.mjs';
import { workloads } from './workloads/index.mjs';
import { runSearchWorkload } from './workloads/search.mjs';

const RELAXED_CHILD = 'relaxed-matmul';
const RELAXED_RUN = 'relaxed-simd';

const options = parseArgs(process.argv.slice(2));
try {
  process.exitCode = options.child ? await child(options) : await main(options);
} catch (error) {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
}

async function main(options) {
  const implNames = options.impls ?? IMPL_NAMES;
  for (const name of implNames) {
    if (!IMPL_NAMES.includes(name)) throw new Error(`unknown implementation '${name}' in --impls`);
  }
  const matching = selectWorkloads(options);
  if (matching.length === 0) throw new Error(`no workload matches --only ${options.only}`);
  // jax-js has only the training workloads: --impls jax-js skips the kernel ones.
  const selected = matching.filter((w) => implNames.some((name) => w.impls[name]));
  if (selected.length === 0) throw new Error('no workload has an implementation in --impls');
  if (options.clock === 'cpu' && !hasThreadCpuClock) {
    throw new Error('--clock cpu needs per-thread CPU time, which only Linux provides here');
  }

  const machine = describeMachine();
  console.log(`kerasm benchmark${options.quick ? ' (--quick: small sizes, few samples)' : ''}`);
  const { cpu, cores, memoryGiB, platform, loadAverage } = machine;
  console.log(`machine: ${cpu}, ${cores} logical cores, ${memoryGiB} GiB, ${platform}, ` +
    `load average ${loadAverage.join(' ')}`);
  console.log(`node ${machine.node} (V8 ${machine.v8})`);
  // Only the implementations that some selected workload has.
  const used = implNames.filter((name) => selected.some((w) => w.impls[name]));
  const { engines, unavailable, describe } =
    await prepareEngines(used, options.flavor, options.readback);
  for (const line of describeImpls(describe, unavailable)) console.log(line);
  console.log('every implementation runs on one thread; ratios are medians over tfjs-wasm\'s ' +
    'median in the same process\n');

  const rows = [];
  const policy = policies(options.quick);
  for (const workload of selected) {
    if (workload.kind === 'search') {
      const kerasm = engines.find((e) => e.name === 'kerasm');
      if (!kerasm) continue;
      const { rows: result, text } = await runSearchWorkload(workload, kerasm);
      rows.push(...result);
      console.log(`${text}\n`);
      continue;
    }
    const result = await runWorkload(workload, engines, unavailable, policy, 'main');
    rows.push(...result);
    console.log(`${workloadTable(result, options.clock)}\n`);
  }

  let relaxed = null;
  const wantsRelaxed = options.relaxed && implNames.includes('kerasm') &&
    selected.some((w) => w.family === 'matmul');
  if (wantsRelaxed) {
    relaxed = runRelaxedChild(options, selected.filter((w) => w.family === 'matmul'));
    console.log('matmul with relaxed SIMD (child process: node --experimental-wasm-relaxed-simd)');
    for (const line of describeImpls(relaxed.describe, {})) console.log(line);
    console.log('');
    for (const group of byWorkload(relaxed.rows)) {
      console.log(`${workloadTable(group, options.clock)}\n`);
    }
    rows.push(...relaxed.rows);
  }

  const targets = evaluateTargets(rows, options.clock);
  console.log(`targets by the ${options.clock} clock ` +
    '(information only: a MISS does not fail the bench)');
  console.log(`${targetTable(targets, options.clock)}\n`);
  const busy = rows.filter((r) => r.cpuShare < 0.9);
  if (options.clock === 'wall' && busy.length > 0) {
    console.log(`note: the machine was busy (the benchmark thread ran ${percent(minShare(busy))} ` +
      'of the time in the worst sample set),\nso wall-clock figures read low and ratios wander; ' +
      'the "by cpu" ratios, or --clock cpu, are the steadier ones\n');
  }

  // A peer that cannot run a workload (tfjs-wasm has no kernel for a convnet's filter
  // gradient) is a fact about the peer: reported, not a failure. A mismatch anywhere is, since
  // it means the implementations do not compute the same thing.
  const failed = rows.filter((r) =>
    r.check === 'MISMATCH' || (r.check === 'error' && r.impl === 'kerasm'));
  const peerErrors = rows.filter((r) => r.check === 'error' && r.impl !== 'kerasm');
  const endLoad = describeMachine().loadAverage.join(' ');
  console.log(`load average at the end: ${endLoad}`);
  if (peerErrors.length > 0) {
    console.log(`${peerErrors.length} result(s) missing because a peer could not run them:`);
    for (const r of peerErrors) console.log(`  ${r.workload} / ${r.impl}: ${r.error}`);
  }
  if (failed.length === 0) {
    const checked = rows.filter((r) => r.check === 'ok').length;
    console.log(`numeric check: all ${checked} checked results match the float64 reference`);
  } else {
    console.log(`FAILED: ${failed.length} of ${rows.length} results did not check out:`);
    for (const r of failed) console.log(`  ${r.workload} / ${r.impl}: ${r.error ?? r.detail}`);
  }

  if (options.json) {
    writeJson(options.json, {
      machine,
      options: {
        quick: options.quick, flavor: options.flavor, readback: options.readback,
        clock: options.clock,
      },
      impls: describe,
      relaxedImpls: relaxed?.describe ?? null,
      results: rows,
      targets,
      ok: failed.length === 0,
    });
    console.log(`wrote ${options.json}`);
  }
  return failed.length === 0 ? 0 : 1;
}

/** The relaxed-SIMD child: kerasm with relaxed SIMD and tfjs-wasm again, matmul only. */
async function child(options) {
  if (options.child !== RELAXED_CHILD) throw new Error(`unknown child role '${options.child}'`);
  if (!options.childOut) throw new Error('--child needs --child-out');
  const implNames = (options.impls ?? IMPL_NAMES)
    .filter((n) => n === 'kerasm' || n === 'tfjs-wasm');
  const { engines, unavailable, describe } =
    await prepareEngines(implNames, 'relaxed-simd', options.readback);
  const rows = [];
  const policy = policies(options.quick);
  for (const workload of selectWorkloads(options).filter((w) => w.family === 'matmul')) {
    rows.push(...(await runWorkload(workload, engines, unavailable, policy, RELAXED_RUN)));
  }
  writeJson(options.childOut, { describe, rows });
  return 0;
}

function runRelaxedChild(options, matmuls) {
  const dir = mkdtempSync(join(tmpdir(), 'kerasm-bench-'));
  const out = join(dir, 'relaxed.json');
  const args = [
    '--experimental-wasm-relaxed-simd', fileURLToPath(import.meta.url),
    '--child', RELAXED_CHILD, '--child-out', out,
    ...(options.quick ? ['--quick'] : []),
    ...(options.only ? ['--only', options.only] : []),
    ...(options.impls ? ['--impls', options.impls.join(',')] : []),
    ...(options.readback ? [] : ['--no-readback']),
  ];
  try {
    const status = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (status.status === 0 && existsSync(out)) return JSON.parse(readFileSync(out, 'utf8'));
    const why = status.error
      ? describeError(status.error)
      : `child process exited with ${status.status ?? status.signal}`;
    // One error row per workload, so that the failure shows in the tables, targets and JSON.
    const rows = matmuls.map((w) => ({
      workload: `${w.name} (${RELAXED_RUN})`, family: w.family, tags: w.tags, run: RELAXED_RUN,
      impl: 'kerasm', unit: w.unit, work: w.work, check: 'error', error: why,
    }));
    return { describe: {}, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function prepareEngines(names, flavor, readback) {
  const engines = [];
  /** @type {Record<string, string>} */
  const unavailable = {};
  /** @type {Record<string, Record<string, unknown>>} */
  const describe = {};
  for (const name of names) {
    try {
      const engine = await prepare(name, { flavor, readback });
      engines.push(engine);
      describe[name] = engine.describe;
    } catch (error) {
      unavailable[name] = describeError(error);
    }
  }
  return { engines, unavailable, describe };
}

function describeImpls(describe, unavailable) {
  const lines = Object.entries(describe).map(([name, fields]) =>
    `${name}: ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  for (const [name, reason] of Object.entries(unavailable)) {
    lines.push(`${name}: NOT AVAILABLE: ${reason}`);
  }
  return lines;
}

function selectWorkloads(options) {
  const only = options.only?.toLowerCase();
  return workloads({ quick: options.quick })
    .filter((w) => !only || w.name.toLowerCase().includes(only));
}

function minShare(rows) {
  return Math.min(...rows.map((r) => r.cpuShare));
}

function percent(x) {
  return `${Math.round(x * 100)}%`;
}

function byWorkload(rows) {
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.workload)) groups.set(row.workload, []);
    groups.get(row.workload).push(row);
  }
  return [...groups.values()];
}
