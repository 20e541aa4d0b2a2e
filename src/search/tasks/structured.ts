// Structured (tabular) data tasks: numeric features, [samples, features].

import { AutoModel } from './auto_model.js';

/**
 * Searches dense architectures (depth, units, dropout, batch norm, input normalization) and the
 * optimizer for classifying rows of numeric features.
 * @example
 * ```ts
 * const clf = new StructuredDataClassifier({ maxTrials: 10 });
 * await clf.fit(rows, labels, { epochs: 20 });
 * clf.predict(newRows);
 * ```
 */
export class StructuredDataClassifier extends AutoModel {
  readonly task = 'structured_data_classifier' as const;
}

/** Like StructuredDataClassifier, for numeric targets; trials are scored by val_loss. */
export class StructuredDataRegressor extends AutoModel {
  readonly task = 'structured_data_regressor' as const;
}
