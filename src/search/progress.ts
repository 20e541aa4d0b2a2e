// The search's console output: in a Node terminal one line redrawn in place after every trial,
// anywhere else one plain line per trial.
//
//   trials 7/20 (1 failed) · best val_accuracy 0.9812 (trial 0004) · 3m12s left

import type { Trial } from './oracles/oracle.js';
import { defaultWriter, type Writer } from '../training/progress.js';

export interface SearchProgress {
  /** Trials finished, whatever their status. */
  done: number;
  /** maxTrials. */
  total: number;
  failed: number;
  invalid: number;
  /** The first objective's name. */
  objective: string;
  best: { score: number; trialId: string } | null;
  /** Seconds left in the time budget; null without one. */
  secondsLeft: number | null;
}

function formatScore(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1e-3 ? value.toFixed(4) : value.toExponential(3);
}

/** 45s, 3m12s, 1h02m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * One line saying how far a search is.
 * @example
 * ```ts
 * formatSearchProgress({ done: 7, total: 20, failed: 1, invalid: 0, objective: 'val_accuracy',
 *   best: { score: 0.98123, trialId: '0004' }, secondsLeft: 192 });
 * // 'trials 7/20 (1 failed) · best val_accuracy 0.9812 (trial 0004) · 3m12s left'
 * ```
 */
export function formatSearchProgress(p: SearchProgress): string {
  const counts = [p.failed > 0 ? `${p.failed} failed` : '', p.invalid > 0 ? `${p.invalid} invalid` : ''].filter(Boolean);
  const parts = [`trials ${p.done}/${p.total}${counts.length ? ` (${counts.join(', ')})` : ''}`];
  parts.push(p.best ? `best ${p.objective} ${formatScore(p.best.score)} (trial ${p.best.trialId})` : `best ${p.objective} -`);
  if (p.secondsLeft !== null) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

/** The progress of `trials` (finished ones) against maxTrials. */
export function progressOf(trials: readonly Trial[], best: Trial | undefined, total: number, objective: string, secondsLeft: number | null): SearchProgress {
  return {
    done: trials.length,
    total,
    failed: trials.filter((t) => t.status === 'failed').length,
    invalid: trials.filter((t) => t.status === 'invalid').length,
    objective,
    best: best && best.score !== null ? { score: best.score, trialId: best.trialId } : null,
    secondsLeft,
  };
}

/** Whether a search prints progress when its verbose option is left out: in a terminal only. */
export function defaultSearchVerbose(): 0 | 1 {
  const stdout = (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout;
  return stdout?.isTTY ? 1 : 0;
}

/** Prints progress lines; a terminal line is redrawn in place and ended by end(). */
export class ProgressLine {
  private readonly out: Writer;
  private drawn = false;

  constructor(writer?: Writer) {
    this.out = writer ?? defaultWriter();
  }

  show(progress: SearchProgress): void {
    const line = formatSearchProgress(progress);
    if (this.out.isTTY) {
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
