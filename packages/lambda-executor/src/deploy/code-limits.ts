import { lambdaLimits } from '@switchyard/core';
import { deploymentError } from '../errors.js';

/**
 * Lambda's size limits, checked while packaging, before the first upload: a function's code and its
 * layers together at most 250 MB unzipped; beyond that only a container image (up to 10 GB) can hold
 * it. Returns the total.
 */
export function checkCodeLimits(functionName: string, codeBytes: number, layerBytes: number): number {
  const unzipped = codeBytes + layerBytes;
  if (unzipped <= lambdaLimits.unzippedCodeBytes) return unzipped;
  const advice =
    unzipped > lambdaLimits.imageBytes
      ? 'over the 10 GB container-image limit too: split the expert group into smaller functions'
      : 'put the graphs in S3 (--bucket), or build a container image (containerDockerfile, up to 10 GB)';
  throw deploymentError(
    `the function's code (${codeBytes} bytes) and layer (${layerBytes} bytes) are ${unzipped} bytes unzipped, over Lambda's 250 MB limit; ${advice}`,
    functionName,
  );
}
