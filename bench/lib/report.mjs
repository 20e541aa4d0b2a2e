// Plain-text tables for the terminal, and the JSON file.

import { writeFileSync } from 'node:fs';

/** Left-aligned columns; `right` lists the columns to align right (numbers). */
export function table(header, lines, right = []) {
  const all = [header, ...lines];
  const widths = header.map((_, c) => Math.max(...all.map((l) => String(l[c]).length)));
  const format = (l) =>
    l.map((cell, c) => {
      const text = String(cell);
      return right.includes(c) ? text.padStart(widths[c]) : text.padEnd(widths[c]);
    })
      .join('  ')
      .trimEnd();
  return [format(header), ...lines.map(format)].map((l) => `  ${l}`).join('\n');
}

export function rate(x) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

function amount(work, unit) {
  if (unit === 'GB/s') return `${(work / 1e6).toFixed(2)} MB moved`;
  if (unit === 'GFLOP/s') return `${(work / 1e6).toFixed(1)} MFLOP`;
  if (unit === 'samples/s') return `one training step on ${work} samples`;
  return `${work} ${unit.split('/')[0]}`;
}

/**
 * A row's statistics by one clock: 'wall' (the row's own median, min, max, ratio) or 'cpu'
 * (the benchmark thread's CPU time). `other` is the ratio by the other clock.
 */
export function byClock(row, clock) {
  const wall = { median: row.median, min: row.min, max: row.max, medianMs: row.medianMs };
  return clock === 'cpu'
    ? { ...row.cpuTime, ratio: row.cpuRatio, other: row.ratio }
    : { ...wall, ratio: row.ratio, other: row.cpuRatio };
}

function ratio(x) {
  return x === undefined || x === null || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`;
}

/** The table of one workload; `clock` picks the statistics shown (see byClock). */
export function workloadTable(rows, clock) {
  const first = rows[0];
  const header = [
    'impl', 'median', 'min - max', 'unit', 'x tfjs-wasm', clock === 'cpu' ? 'by wall' : 'by cpu',
    'samples', 'ms/run', 'cpu', 'max err', 'check',
  ];
  const lines = rows.map((r) => {
    if (r.check === 'error') {
      return [r.impl, '-', '-', r.unit, '-', '-', '-', '-', '-', '-', `ERROR: ${r.error}`];
    }
    const s = byClock(r, clock);
    return [
      r.impl,
      rate(s.median),
      `${rate(s.min)} - ${rate(s.max)}`,
      r.unit,
      ratio(s.ratio),
      ratio(s.other),
      `${r.samples}x${r.reps}`,
      s.medianMs >= 10 ? s.medianMs.toFixed(0) : s.medianMs.toPrecision(2),
      Number.isFinite(r.cpuShare) ? `${Math.round(r.cpuShare * 100)}%` : '-',
      r.maxErr === null ? '-' : r.maxErr === 0 ? '0' : r.maxErr.toExponential(1),
      r.check === 'MISMATCH' ? `MISMATCH: ${r.detail}` : r.check,
    ];
  });
  const notes = rows
    .filter((r) => r.memoryGrowth)
    .map((r) => `  warning: ${r.impl}'s memory grew by ${r.memoryGrowth} while timed`);
  notes.push(...lossNotes(rows));
  const tolerance = rows.find((r) => r.tolerance !== undefined)?.tolerance;
  const title = `${first.workload}  (${amount(first.work, first.unit)} per run; ` +
    `tolerance ${tolerance === 0 ? 'exact' : tolerance?.toExponential(1) ?? '-'})`;
  return [title, table(header, lines, [1, 2, 4, 5, 6, 7, 8, 9]), ...notes].join('\n');
}

/**
 * Training rows: the loss of the first step (checked against the reference) and of the second,
 * after one update from the same weights. The second tells whether the implementations also
 * agree on the gradients and the update; Adam's first update is nearly sign(gradient) times
 * the learning rate, so honest implementations agree to about 1e-5 and a wrong or missing
 * gradient shows far above the workload's tolerance.
 */
function lossNotes(rows) {
  const trained = rows.filter((r) => r.losses?.length === 2);
  if (trained.length === 0) return [];
  const second = trained.map((r) => r.losses[1]);
  const mid = [...second].sort((a, b) => a - b)[second.length >> 1];
  const spread = Math.max(...second.map((l) => Math.abs(l - mid))) / Math.abs(mid);
  const items = trained.map((r) => `${r.impl} ${r.losses.map((l) => l.toFixed(5)).join(' -> ')}`);
  if (trained.length > 1) items.push(`spread after the update ${spread.toExponential(1)}`);
  const notes = wrap('  loss of steps 1 -> 2: ', items, '    ');
  if (trained.length > 1 && !(spread <= trained[0].tolerance)) {
    notes.push(`  warning: after one update the losses differ by ${spread.toExponential(1)} ` +
      '(relative): the implementations do not train alike');
  }
  return notes;
}

/** Comma-separated items after `first`, on lines of at most 100 characters. */
function wrap(first, items, indent) {
  const lines = [];
  let line = first;
  for (const [i, item] of items.entries()) {
    const text = i < items.length - 1 ? `${item},` : item;
    const joined = line === first ? `${line}${text}` : `${line} ${text}`;
    if (line !== first && joined.length > 100) {
      lines.push(line);
      line = `${indent}${text}`;
    } else {
      line = joined;
    }
  }
  lines.push(line);
  return lines;
}

function goalText(line) {
  return line.versus === null
    ? `>= ${line.goal} ${line.unit}`
    : `>= ${line.goal.toFixed(2)}x ${line.versus}`;
}

function measuredText(line, x) {
  return line.versus === null ? rate(x) : ratio(x);
}

export function targetTable(lines, clock) {
  const header = ['target', 'workload', 'goal', 'kerasm', clock === 'cpu' ? 'by wall' : 'by cpu',
    'result'];
  return table(
    header,
    lines.map((l) => [
      l.target,
      l.workload,
      goalText(l),
      measuredText(l, l.measured),
      measuredText(l, l.other),
      l.status,
    ]),
    [3, 4],
  );
}

export function writeJson(file, report) {
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
