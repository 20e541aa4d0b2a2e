import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dense, ModelCheckpoint, Sequential, loadModel, tensor } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kerasm-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ModelCheckpoint', () => {
  it('saves when the monitored loss improves, and the saved model loads', async () => {
    const model = new Sequential([new Dense({ units: 1, inputShape: [1] })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = tensor([[0], [1], [2], [3]]);
    const y = tensor([[1], [3], [5], [7]]);
    const checkpoint = new ModelCheckpoint({ filepath: `file://${dir}/epoch-{epoch}`, monitor: 'loss', saveBestOnly: true });
    await model.fit(x, y, { epochs: 3, verbose: 0, callbacks: [checkpoint] });
    expect(checkpoint.saved).toEqual([1, 2, 3].map((e) => `file://${dir}/epoch-${e}`));
    expect(existsSync(join(dir, 'epoch-3', 'model.json'))).toBe(true);
    const loaded = await loadModel(`file://${dir}/epoch-3`);
    expect(Array.from((loaded.predict(x) as ReturnType<typeof tensor>).dataSync())).toEqual(Array.from((model.predict(x) as ReturnType<typeof tensor>).dataSync()));
  });
});
