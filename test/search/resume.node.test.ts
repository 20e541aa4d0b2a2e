// A search killed with SIGKILL resumes: a real child process (fixtures/search-child.mjs, on the
// built bundle) runs a seeded search with a directory, is killed mid-search, and is run again
// with overwrite: false. Every trial must then be in state.json exactly once, the trials
// finished before the kill unchanged and not rebuilt, only the best modelsToKeep models on
// disk, and no half-written files. Needs `npm run build`.
//
// Nothing here depends on how fast the machine is: the parent polls with generous limits, and
// the child holds a trial open (training without end) so that it is still alive when killed.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HPValues, Trial } from '../../src/search/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/search-child.mjs', import.meta.url));
const MAX_TRIALS = 6;
const MODELS_TO_KEEP = 2;
/** A guard against a hung child, never a measure of speed. */
const PATIENCE_MS = 240_000;

const dir = mkdtempSync(join(tmpdir(), 'kerasm-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/kerasm.js'))) throw new Error('dist/kerasm.js is missing: run `npm run build` first');
});

interface Build { pid: number; phase: 'search' | 'best'; values: HPValues }
interface Report { trials: number; kept: { trialId: string; score: number; loaded: number }[] }

function start(directory: string, log: string, hold?: number): { child: ChildProcess; output: () => string } {
  const args = [CHILD, directory, log, String(MAX_TRIALS), ...(hold === undefined ? [] : [String(hold)])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  return { child, output: () => output };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function waitFor(what: string, run: ReturnType<typeof start>, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!ready()) {
    const { child } = run;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the search process ended (code ${child.exitCode}, signal ${child.signalCode}) before ${what}:\n${run.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`no ${what} after ${PATIENCE_MS / 1000} s:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the search to its end; returns what it printed. */
async function finish(directory: string, log: string): Promise<Report> {
  const run = start(directory, log);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), PATIENCE_MS);
  const { code, signal } = await exited(run.child);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the resumed search failed (code ${code}, signal ${signal}):\n${run.output()}`);
  return JSON.parse(run.output()) as Report;
}

const readText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

function trialsIn(project: string): Trial[] {
  const text = readText(join(project, 'state.json'));
  return text === '' ? [] : (JSON.parse(text).trials as Trial[]);
}

function builds(log: string): Build[] {
  return readText(log).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Build);
}

/** Kills a search once `killWhen` holds, resumes it, and checks everything the resume promises. */
async function killAndResume(name: string, hold: number, killWhen: (project: string, log: string) => boolean) {
  const directory = join(dir, name);
  const project = join(directory, 'killed');
  const log = join(dir, `${name}.log`);
  const first = start(directory, log, hold);
  try {
    await waitFor('the moment to kill it', first, () => killWhen(project, log));
  } finally {
    first.child.kill('SIGKILL');
  }
  expect((await exited(first.child)).signal).toBe('SIGKILL');
  const atKill = trialsIn(project);
  const firstBuilds = builds(log);
  expect(atKill.length).toBeGreaterThanOrEqual(2);

  const report = await finish(directory, log);
  const final = trialsIn(project);
  const ids = Array.from({ length: MAX_TRIALS }, (_, i) => String(i).padStart(4, '0'));
  expect(final.map((t) => t.trialId)).toEqual(ids);
  expect(final.every((t) => t.status === 'completed')).toBe(true);
  // The trials finished before the kill, as they were: values, metrics, score.
  expect(final.slice(0, atKill.length)).toEqual(atKill);

  // Each finished trial was built once, by the killed process. The killed process may have
  // built one trial more, the one in flight; the resumed process builds that one again, with
  // the same values, and then the rest.
  const [secondPid] = builds(log).filter((b) => b.pid !== first.child.pid).map((b) => b.pid);
  const firstSearch = firstBuilds.filter((b) => b.phase === 'search').map((b) => b.values);
  const secondSearch = builds(log).filter((b) => b.pid === secondPid && b.phase === 'search').map((b) => b.values);
  expect(firstSearch.slice(0, atKill.length)).toEqual(atKill.map((t) => t.hyperparameters));
  const inFlight = firstSearch.slice(atKill.length);
  expect(inFlight.length).toBeLessThanOrEqual(1);
  expect(secondSearch).toEqual(final.slice(atKill.length).map((t) => t.hyperparameters));
  if (inFlight.length === 1) expect(secondSearch[0]).toEqual(inFlight[0]);

  // Only the best modelsToKeep models are on disk, they load, and nothing half-written is left.
  const best = [...final].sort((a, b) => a.score! - b.score!).slice(0, MODELS_TO_KEEP).map((t) => t.trialId);
  expect(readdirSync(project).sort()).toEqual(['state.json', ...best.map((id) => `trial_${id}`).sort()]);
  for (const id of best) expect(readdirSync(join(project, `trial_${id}`)).sort()).toEqual(['model.json', 'weights.bin']);
  expect(report.trials).toBe(MAX_TRIALS);
  expect(report.kept.map((k) => k.trialId)).toEqual(best);
  for (const k of report.kept) expect(k.loaded).toBeCloseTo(k.score, 5);
  return { atKill, inFlight };
}

describe('a search killed with SIGKILL', () => {
  it('resumes a trial killed while it trains, and repeats no finished trial', async () => {
    // The third build trains until killed; it is killed once it has trained an epoch.
    const { atKill, inFlight } = await killAndResume('mid-trial', 3, (project, log) =>
      trialsIn(project).length >= 2 && readText(log).includes('training\n'));
    expect(atKill).toHaveLength(2);
    expect(inFlight).toHaveLength(1);
  }, 2 * PATIENCE_MS + 60_000);

  it('resumes when killed at whatever point the search has reached after two trials', async () => {
    // Killed as soon as state.json shows two trials: inside a trial, while saving its weights,
    // or while writing state.json. The held last build keeps the process alive until then.
    await killAndResume('any-moment', MAX_TRIALS, (project) => trialsIn(project).length >= 2);
  }, 2 * PATIENCE_MS + 60_000);
});
