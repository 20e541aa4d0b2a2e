// The op catalog: docs/ops.md is generated from it (`npm run docs:ops`) and must be current,
// and every differentiable op's tape entry has a gradient rule.

import { describe, expect, it } from 'vitest';
import { DIFFERENTIABLE_OPS } from '../../src/autodiff/gradients.js';
import { catalogMarkdown, OP_CATALOG } from '../../src/ops/catalog.js';
import * as ops from '../../src/ops/index.js';

describe('op catalog', () => {
  it('has a row for every public op function', () => {
    const functions = Object.entries(ops).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
    expect(Object.keys(OP_CATALOG).sort()).toEqual(functions);
  });

  it('every differentiable op records a tape entry that has a gradient rule', () => {
    for (const [name, entry] of Object.entries(OP_CATALOG)) {
      if (entry.records === null || entry.records === 'composite') continue;
      expect(DIFFERENTIABLE_OPS, `ops.${name} records '${entry.records}'`).toContain(entry.records);
    }
  });

  it('docs/ops.md is generated from the catalog', async () => {
    await expect(catalogMarkdown()).toMatchFileSnapshot('../../docs/ops.md');
  });
});
