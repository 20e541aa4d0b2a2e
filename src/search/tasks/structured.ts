// Structured (tabular) data tasks: numeric features, [samples, features].

import { fail } from '../../ops/check.js';
import type { Tensor } from '../../tensor.js';
import { AutoModel } from './auto_model.js';

function toTable(x: Tensor, what: string): Tensor {
  if (x.rank === 2) return x;
  return fail(what, `expected a table of numeric features of shape [samples, features], got [${x.shape.join(', ')}]`);
}

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
  protected prepareInputs(x: Tensor): Tensor {
    return toTable(x, 'StructuredDataClassifier');
  }
}

/** Like StructuredDataClassifier, for numeric targets; trials are scored by val_loss. */
export class StructuredDataRegressor extends AutoModel {
  readonly task = 'structured_data_regressor' as const;
  protected prepareInputs(x: Tensor): Tensor {
    return toTable(x, 'StructuredDataRegressor');
  }
}
