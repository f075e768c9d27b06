import { z } from 'zod';

/**
 * The formats an expert graph can be built in (architecture/quantization.md): `none` keeps float32
 * weights; `int8` stores each weight matrix as int8 with one symmetric scale per output channel;
 * `int4` stores it as 4-bit codes with one symmetric scale per block of `blockSize` input values.
 */
export const expertQuantizationFormats = ['none', 'int8', 'int4'] as const;
export type ExpertQuantizationFormat = (typeof expertQuantizationFormats)[number];

/** The int4 block sizes onnxruntime's MatMulNBits runs that Switchyard builds (input values per scale). */
export const int4BlockSizes = [32, 128] as const;
export type Int4BlockSize = (typeof int4BlockSizes)[number];

/**
 * How a model's expert graphs are quantized; recorded in the plan's model block (absent = `none`, the
 * format of plans written before quantization existed) and in a model summary.
 */
export const expertQuantizationSchema = z
  .object({
    format: z.enum(expertQuantizationFormats),
    /** int4 only: input values per scale. */
    blockSize: z.union([z.literal(int4BlockSizes[0]), z.literal(int4BlockSizes[1])]).optional(),
  })
  .superRefine((value, context) => {
    if (value.format !== 'int4' && value.blockSize !== undefined)
      context.addIssue({
        code: 'custom',
        message: `blockSize applies to int4 only, not ${value.format}`,
        path: ['blockSize'],
      });
  });
export type ExpertQuantization = z.output<typeof expertQuantizationSchema>;

/**
 * Bytes one weight matrix of `inFeatures` → `outFeatures` takes in a format: float32 values; int8
 * codes and one float32 scale per output channel; int4 codes (two per byte) and one float32 scale per
 * block of `blockSize` (default 32) input values of an output channel.
 */
export function weightMatrixBytes(
  inFeatures: number,
  outFeatures: number,
  quantization: ExpertQuantization | undefined,
): number {
  const elements = inFeatures * outFeatures;
  if (quantization?.format === 'int8') return elements + 4 * outFeatures;
  if (quantization?.format === 'int4')
    return elements / 2 + 4 * outFeatures * Math.ceil(inFeatures / (quantization.blockSize ?? 32));
  return 4 * elements;
}
