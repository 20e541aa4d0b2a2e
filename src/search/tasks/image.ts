// Image tasks: images are [samples, height, width] or [samples, height, width, channels].

import { fail } from '../../ops/check.js';
import type { Tensor } from '../../tensor.js';
import { AutoModel } from './auto_model.js';

function toImages(x: Tensor, what: string): Tensor {
  if (x.rank === 3) return x.reshape([...x.shape, 1]);
  if (x.rank === 4) return x;
  return fail(what, `expected images of shape [samples, height, width] or [samples, height, width, channels], got [${x.shape.join(', ')}]`);
}

/**
 * Searches convolutional architectures and their optimizer for image classification, starting
 * from the classic Keras MNIST convnet.
 * @example
 * ```ts
 * const clf = new ImageClassifier({ maxTrials: 10, seed: 1 });
 * await clf.fit(xTrain, yTrain, { epochs: 10, timeBudget: 600 });
 * clf.predict(xTest);           // labels, as given to fit()
 * clf.evaluate(xTest, yTest);   // { loss, accuracy }
 * await clf.exportModel().save('file://./best');
 * ```
 */
export class ImageClassifier extends AutoModel {
  readonly task = 'image_classifier' as const;
  protected prepareInputs(x: Tensor): Tensor {
    return toImages(x, 'ImageClassifier');
  }
}

/**
 * Searches convolutional architectures for regression on images (targets [samples] or
 * [samples, outputs]); trials are scored by val_loss (mean squared error).
 * @example
 * ```ts
 * const reg = new ImageRegressor({ maxTrials: 5 });
 * await reg.fit(images, targets, { epochs: 10 });
 * ```
 */
export class ImageRegressor extends AutoModel {
  readonly task = 'image_regressor' as const;
  protected prepareInputs(x: Tensor): Tensor {
    return toImages(x, 'ImageRegressor');
  }
}
