// Browsers: IndexedDB (shared with TensorFlow.js: each library loads what the other saved),
// downloads:// (captured from the page's anchors) loaded back with io.browserFiles, and
// relative URLs fetched from the page's server.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conv2D, Dense, Flatten, io, loadModel, MaxPooling2D, Sequential, setRandomSeed, tensor } from '../../src/index.js';
import { expectRejects, expectSameModel, inputsFor } from './helpers.js';

const NAME = 'kerasm-io-test';

function convnet(): Sequential {
  setRandomSeed(9);
  return new Sequential([
    new Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 2] }),
    new MaxPooling2D(),
    new Flatten(),
    new Dense({ units: 2, activation: 'softmax' }),
  ]);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await io.removeModel(`indexeddb://${NAME}`);
  await io.removeModel(`indexeddb://${NAME}-tfjs`);
});

describe('indexeddb://', () => {
  it('saves and loads', async () => {
    const model = convnet();
    await model.save(`indexeddb://${NAME}`);
    expectSameModel(model, await loadModel(`indexeddb://${NAME}`), inputsFor(model, 2, 1));
  });

  it('TensorFlow.js loads what kerasm saved there, and the other way round', async () => {
    const model = convnet();
    await model.save(`indexeddb://${NAME}`);
    const inTfjs = await tfl.loadLayersModel(`indexeddb://${NAME}`);
    const x = inputsFor(model, 2, 2)[0];
    const expected = (model.predict(x) as ReturnType<typeof tensor>).dataSync();
    const got = (inTfjs.predict(tf.tensor(x.dataSync(), [...x.shape])) as tf.Tensor).dataSync();
    got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-5));

    await inTfjs.save(`indexeddb://${NAME}-tfjs`);
    const back = await loadModel(`indexeddb://${NAME}-tfjs`);
    const again = (back.predict(x) as ReturnType<typeof tensor>).dataSync();
    again.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-5));
  });

  it('a model that is not there, and removing one', async () => {
    await expectRejects(loadModel('indexeddb://no-such-model'), "kerasm.io.browserIndexedDB: no model named 'no-such-model' in IndexedDB");
    await convnet().save(`indexeddb://${NAME}`);
    expect(await io.removeModel(`indexeddb://${NAME}`)).toBe(true);
    expect(await io.removeModel(`indexeddb://${NAME}`)).toBe(false);
  });
});

describe('downloads://', () => {
  it('starts two downloads, <name>.json and <name>.weights.bin, which io.browserFiles loads', async () => {
    const clicked: { download: string; href: string }[] = [];
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      clicked.push({ download: this.download, href: this.href });
    };
    const model = convnet();
    try {
      await model.save('downloads://my-net');
    } finally {
      HTMLAnchorElement.prototype.click = click;
    }
    expect(clicked.map((c) => c.download)).toEqual(['my-net.json', 'my-net.weights.bin']);
    const files = await Promise.all(clicked.map(async (c) => new File([await (await fetch(c.href)).blob()], c.download)));
    const json = JSON.parse(await files[0].text());
    expect(json.weightsManifest[0].paths).toEqual(['./my-net.weights.bin']);
    expectSameModel(model, await loadModel(io.browserFiles(files)), inputsFor(model, 2, 3));
  });
});
