import { describe, expect, it } from 'vitest';
import { channelsOf, decisionRuleOf, labelShapeOf, outputKindOf } from './output-kind.js';

describe('output kinds and the label modes\' decision rules (one rule for parties and SDK)', () => {
  it('kind and rule from the output shape and activation', () => {
    expect([outputKindOf([2], 'softmax'), decisionRuleOf([2], 'softmax')]).toEqual(['class', 'argmax']);
    expect([outputKindOf([1], 'sigmoid'), decisionRuleOf([1], 'sigmoid')]).toEqual(['class', 'argmax']);
    expect([outputKindOf([14], 'sigmoid'), decisionRuleOf([14], 'sigmoid')]).toEqual(['multi-label', 'threshold']);
    expect([outputKindOf([14], 'linear'), decisionRuleOf([14], 'linear')]).toEqual(['class', 'argmax']);
    expect([outputKindOf([128, 128, 1], 'sigmoid'), decisionRuleOf([128, 128, 1], 'sigmoid')]).toEqual(['mask', 'threshold']);
    expect(decisionRuleOf([128, 128, 1], 'linear')).toBe('threshold');
    expect(decisionRuleOf([64, 64, 3], 'sigmoid')).toBe('threshold');
    expect([outputKindOf([64, 64, 3], 'softmax'), decisionRuleOf([64, 64, 3], 'softmax')]).toEqual(['mask', 'pixel-argmax']);
    expect([channelsOf([14]), channelsOf([64, 64, 3]), channelsOf([])]).toEqual([14, 3, 1]);
  });

  it('the shape of one image\'s label-mode share: unambiguous together with the kind', () => {
    expect(labelShapeOf([2], 'argmax', 'label')).toEqual([]);
    expect(labelShapeOf([2], 'argmax', 'label+confidence')).toEqual([2]);
    expect(labelShapeOf([2], 'threshold', 'label')).toEqual([2]); // two labels' bits: the same shape as a class + bucket, told apart by x-output-kind
    expect(labelShapeOf([14], 'threshold', 'label+confidence')).toEqual([14, 2]);
    expect(labelShapeOf([128, 128, 1], 'threshold', 'label')).toEqual([128, 128, 1]);
    expect(labelShapeOf([64, 64, 3], 'pixel-argmax', 'label')).toEqual([64, 64]);
    expect(labelShapeOf([64, 64, 3], 'pixel-argmax', 'label+confidence')).toEqual([64, 64, 2]);
  });
});
