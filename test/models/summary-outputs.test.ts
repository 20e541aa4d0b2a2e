// summary() of layers with several outputs (an RNN with returnState): the row lists every
// output's shape, as Keras prints them, in functional and Sequential models; and a Sequential
// model that ends in such a layer (Keras 3 allows it) predicts, saves and loads all of them.

import { describe, expect, it } from 'vitest';
import {
  Bidirectional, Dense, Embedding, GRU, Input, LSTM, Model, Sequential, tensor, type Tensor,
} from '../../src/index.js';
import { roundTrip } from '../io/helpers.js';

function printed(model: Model): string[] {
  const lines: string[] = [];
  model.summary((line) => lines.push(line));
  return lines;
}

describe('summary() of a layer with several outputs', () => {
  it('functional: an LSTM with returnState shows [output, h, c] shapes, and the columns line up', () => {
    const x = Input({ shape: [5, 2], name: 'steps' });
    const [seq, h, c] = new LSTM({ units: 4, returnSequences: true, returnState: true, name: 'enc' }).applyAll(x);
    const model = new Model({ inputs: x, outputs: [new Dense({ units: 3, name: 'head' }).apply(seq), h, c], name: 'encoder' });
    const rule = '_'.repeat(73);
    expect(printed(model)).toEqual([
      'Model: "encoder"',
      rule,
      'Layer (type)          Output Shape                            Param #',
      '='.repeat(73),
      'steps (InputLayer)    (None, 5, 2)                            0',
      rule,
      'enc (LSTM)            [(None, 5, 4), (None, 4), (None, 4)]    112',
      rule,
      'head (Dense)          (None, 5, 3)                            15',
      '='.repeat(73),
      'Total params: 127',
      'Trainable params: 127',
      'Non-trainable params: 0',
      rule,
    ]);
  });

  it('Sequential: a Bidirectional LSTM with returnState last shows its five shapes', () => {
    const model = new Sequential({
      name: 'tagger',
      layers: [
        new Embedding({ inputDim: 10, outputDim: 3, inputShape: [6], name: 'emb' }),
        new Bidirectional({ layer: new LSTM({ units: 2, returnState: true }), name: 'bi' }),
      ],
    });
    const lines = printed(model);
    expect(lines).toContain('bi (Bidirectional)    [(None, 4), (None, 2), (None, 2), (None, 2), (None, 2)]    96');
    expect(lines).toContain('emb (Embedding)       (None, 6, 3)                                               30');
    expect(lines.some((l) => l.includes('InputLayer'))).toBe(false);
    expect(lines).toContain('Total params: 126');
  });
});

describe('Sequential ending in a layer with several outputs', () => {
  it('has all of them as outputs: predicts them as Keras 3, saves and loads them', async () => {
    const gru = new GRU({ units: 3, returnSequences: true, returnState: true, name: 'gru' });
    const model = new Sequential([new Dense({ units: 2, inputShape: [4, 3], name: 'proj' }), gru]);
    expect(model.outputs.map((t) => t.shape)).toEqual([[null, 4, 3], [null, 3]]);
    const x = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [2, 4, 3]);
    const [seq, h] = model.predict(x) as Tensor[];
    const [wantSeq, wantH] = gru.applyAll((model.getLayer('proj') as Dense).apply(x));
    expect(Array.from(seq.dataSync())).toEqual(Array.from(wantSeq.dataSync()));
    expect(Array.from(h.dataSync())).toEqual(Array.from(wantH.dataSync()));
    // h is the last step of the sequence.
    expect(Array.from(h.dataSync().subarray(0, 3))).toEqual(Array.from(seq.dataSync().subarray(9, 12)));

    // Saved in the functional layout (tfjs-layers reads a 'Sequential' only with one output), so
    // it comes back as a functional model with the same layers and outputs.
    const { copy } = await roundTrip(model);
    expect(copy.className).toBe('Functional');
    expect(copy.layers.filter((l) => l.className !== 'InputLayer').map((l) => l.name)).toEqual(['proj', 'gru']);
    expect(copy.outputs.map((t) => t.shape)).toEqual([[null, 4, 3], [null, 3]]);
    const [seq2, h2] = copy.predict(x) as Tensor[];
    expect(Array.from(seq2.dataSync())).toEqual(Array.from(seq.dataSync()));
    expect(Array.from(h2.dataSync())).toEqual(Array.from(h.dataSync()));
  });

  it('rejects a layer after it, built or not yet built', () => {
    const built = new Sequential([new LSTM({ units: 2, returnState: true, inputShape: [3, 1], name: 'enc' })]);
    expect(() => built.add(new Dense({ units: 1, name: 'out' }))).toThrow(
      "kerasm.Sequential.add: expected layer 'out' to follow a layer with one output, got it after 'enc', which returns 3 tensors; a layer with several outputs can only be last in a Sequential model (use the functional API to pass them on)",
    );
    expect(built.layers.map((l) => l.name)).toEqual(['enc']);
    const deferred = new Sequential([new GRU({ units: 2, returnState: true, name: 'g' })]);
    expect(() => deferred.add(new Dense({ units: 1 }))).toThrow(/after 'g', which returns 2 tensors/);
  });
});
