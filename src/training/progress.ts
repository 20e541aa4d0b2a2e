// fit()'s console output. In a Node terminal, a Keras-like progress bar redrawn in place;
// anywhere else (pipes, CI logs, browsers), one plain line per epoch.

import { Callback, type Logs } from './callbacks.js';

/** Where progress text goes: a terminal (redrawn in place) or plain lines. */
export interface Writer {
  isTTY: boolean;
  write(text: string): void;
}

/** Node's stdout, or console.log one complete line at a time where there is none (browsers). */
export function defaultWriter(): Writer {
  const stdout = (globalThis as { process?: { stdout?: { isTTY?: boolean; write(s: string): void } } }).process?.stdout;
  if (stdout) return { isTTY: Boolean(stdout.isTTY), write: (s) => stdout.write(s) };
  let line = '';
  return {
    isTTY: false,
    write: (s) => {
      line += s;
      const parts = line.split('\n');
      line = parts.pop() ?? '';
      for (const p of parts) console.log(p);
    },
  };
}

export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3)}`)
    .join(' - ');
}

function formatTime(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

export class ProgressLogger extends Callback {
  private readonly out: Writer;
  private epochStart = 0;
  private lastDraw = 0;

  constructor(writer?: Writer) {
    super();
    this.out = writer ?? defaultWriter();
  }

  override onEpochBegin(epoch: number) {
    this.epochStart = performance.now();
    this.lastDraw = 0;
    if (this.out.isTTY) this.out.write(`Epoch ${epoch + 1}/${this.params.epochs}\n`);
  }

  override onBatchEnd(batch: number, logs: Logs = {}) {
    if (!this.out.isTTY) return;
    const now = performance.now();
    const steps = this.params.steps;
    if (now - this.lastDraw < 100 && batch + 1 !== steps) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const done = batch + 1;
    const width = 30;
    let bar: string;
    let eta = '';
    if (steps) {
      const filled = Math.min(width, Math.floor((done / steps) * width));
      bar = `${String(done).padStart(String(steps).length)}/${steps} [${'='.repeat(Math.max(0, filled - 1))}${filled < width ? '>' : '='}${'.'.repeat(width - filled)}]`;
      eta = done < steps ? ` - ETA: ${formatTime((elapsed / done) * (steps - done))}` : ` - ${formatTime(elapsed)} ${Math.round((elapsed * 1000) / done)}ms/step`;
    } else {
      bar = `${done}/Unknown`;
    }
    const metrics = formatLogs(Object.fromEntries(Object.entries(logs).filter(([k]) => k !== 'batch' && k !== 'size')));
    this.out.write(`\r${bar}${eta}${metrics ? ` - ${metrics}` : ''}\x1b[K`);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}) {
    const seconds = (performance.now() - this.epochStart) / 1000;
    if (this.out.isTTY) {
      this.out.write(`\r${this.params.steps ? `${this.params.steps}/${this.params.steps}` : ''} - ${formatTime(seconds)} - ${formatLogs(logs)}\x1b[K\n`);
    } else {
      this.out.write(`Epoch ${epoch + 1}/${this.params.epochs} - ${seconds.toFixed(1)}s - ${formatLogs(logs)}\n`);
    }
  }
}
