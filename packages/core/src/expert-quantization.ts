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
