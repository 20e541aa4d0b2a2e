// What the numbers were measured on.

import { readFileSync } from 'node:fs';
import os from 'node:os';

function cpuModel() {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // not Linux: fall through to os.cpus()
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function describeMachine() {
  return {
    cpu: cpuModel(),
    cores: typeof os.availableParallelism === 'function'
      ? os.availableParallelism()
      : os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}
