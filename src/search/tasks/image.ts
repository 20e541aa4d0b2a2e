// Image tasks: images are [samples, height, width] or [samples, height, width, channels].

import { AutoModel } from './auto_model.js';

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
}
