import { lambdaLimits } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { checkCodeLimits } from './code-limits.js';

describe('checkCodeLimits', () => {
  const layer = 48_000_000;

  it('passes code that fits with its layer, up to exactly 250 MB', () => {
    expect(checkCodeLimits('f', 1_000, layer)).toBe(layer + 1_000);
    expect(checkCodeLimits('f', lambdaLimits.unzippedCodeBytes - layer, layer)).toBe(
      lambdaLimits.unzippedCodeBytes,
    );
  });

  it('refuses one byte more, naming the function and the way out', () => {
    expect(() => checkCodeLimits('shk-l1-g0-r0', lambdaLimits.unzippedCodeBytes - layer + 1, layer)).toThrow(
      /over Lambda's 250 MB limit; put the graphs in S3 \(--bucket\), or build a container image .* \(at shk-l1-g0-r0\)$/,
    );
  });

  it('says when even a container image cannot hold it', () => {
    expect(() => checkCodeLimits('huge', lambdaLimits.imageBytes, layer)).toThrow(
      /over the 10 GB container-image limit too: split the expert group/,
    );
  });
});
