import { z } from 'zod';

/** File name of the manifest the expert function reads at init (in its code directory by default). */
export const expertManifestFile = 'switchyard-experts.json';

/**
 * Which expert graphs a function holds and where their ONNX bytes are. `file` is a path relative to
 * the manifest (bundled in the zip), an absolute path (e.g. a layer under `/opt/...`), or
 * `s3://bucket/key` (loaded from S3 at init — the container-image/large-model route).
 */
export const expertManifestSchema = z.object({
  kind: z.literal('switchyard.expert-manifest'),
  version: z.literal(1),
  /** Model hidden size H; every graph maps [N, H] → [N, H]. */
  hiddenSize: z.number().int().positive(),
  experts: z
    .array(
      z.object({
        layer: z.number().int().nonnegative(),
        expert: z.number().int().nonnegative(),
        file: z.string().min(1),
      }),
    )
    .min(1),
  /** onnxruntime intra-op threads; default: the vCPU share of the function's memory. */
  threads: z.number().int().positive().optional(),
});

export type ExpertManifest = z.output<typeof expertManifestSchema>;

/** `layer:expert` key used in maps. */
export function expertKey(layer: number, expert: number): string {
  return `${layer}:${expert}`;
}
