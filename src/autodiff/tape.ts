// Reverse-mode recording. While a tape is active, every differentiable op whose inputs depend
// on a watched tensor appends one entry: the op's name, inputs, output and attributes. The
// gradient rules (gradients.ts) turn an entry plus the output's gradient into input gradients.
//
// This file imports no op, so tensor.ts and every op can record without import cycles.

import type { Tensor } from '../tensor.js';

/** Attributes each differentiable op saves for its gradient rule. */
export interface OpAttrs {
  matmul: { transposeA: boolean; transposeB: boolean } & FusedAttrs;
  conv2d: WindowAttrs & FusedAttrs;
  depthwiseConv2d: WindowAttrs & FusedAttrs;
  maxPool: PoolAttrs;
  avgPool: PoolAttrs;
  unary: { code: number; alpha: number };
  binary: { code: number };
  scaleShift: { scale: number };
  softmax: Record<string, never>;
  reduce: { code: number; outer: number; axis: number; inner: number };
  softmaxCrossEntropy: Record<string, never>;
  sparseSoftmaxCrossEntropy: Record<string, never>;
  reshape: Record<string, never>;
  transpose: { perm: number[] };
  slice: { begin: number[] };
  pad: { paddings: [number, number][] };
  concat: { axis: number };
  broadcastTo: Record<string, never>;
  gather: { axis: number };
  weightedGather: Record<string, never>;
}

/**
 * An activation (ACT_* code) applied to the output by the op's own kernel while recording.
 * Only activations whose derivative can be computed from the output stay fused.
 */
export interface FusedAttrs {
  fused?: { code: number; alpha: number };
}

export interface WindowAttrs {
  strides: [number, number];
  dilations: [number, number];
  padding: 'valid' | 'same';
}

export interface PoolAttrs {
  poolSize: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

export type OpName = keyof OpAttrs;

export interface TapeEntry<K extends OpName = OpName> {
  op: K;
  inputs: Tensor[];
  output: Tensor;
  attrs: OpAttrs[K];
}

export class Tape {
  readonly entries: TapeEntry[] = [];
  private readonly tracked = new Set<Tensor>();

  constructor(watched: readonly Tensor[]) {
    for (const t of watched) this.tracked.add(t);
  }

  tracks(t: Tensor): boolean {
    return this.tracked.has(t);
  }

  push<K extends OpName>(entry: TapeEntry<K>): void {
    this.entries.push(entry as unknown as TapeEntry);
    this.tracked.add(entry.output);
  }
}

let active: Tape | null = null;
let paused = 0;

/** Records one op application if a tape is active and any input is tracked. */
export function record<K extends OpName>(
  op: K, inputs: Tensor[], output: Tensor, attrs: OpAttrs[K],
): void {
  if (active === null || paused > 0) return;
  const tape = active;
  if (inputs.some((t) => tape.tracks(t))) tape.push({ op, inputs, output, attrs });
}

/** True while ops are being recorded (ops use this to avoid fusions that lose information). */
export function isRecording(): boolean {
  return active !== null && paused === 0;
}

/** Runs `f` with a fresh tape watching `watched`; returns f's value and the tape. */
export function withTape<T>(watched: readonly Tensor[], f: () => T): { value: T; tape: Tape } {
  const previous = active;
  const previousPaused = paused;
  const tape = new Tape(watched);
  active = tape;
  paused = 0;
  try {
    return { value: f(), tape };
  } finally {
    active = previous;
    paused = previousPaused;
  }
}

/** Runs `f` without recording (gradient rules, optimizer updates, metrics). */
export function noGrad<T>(f: () => T): T {
  paused++;
  try {
    return f();
  } finally {
    paused--;
  }
}
