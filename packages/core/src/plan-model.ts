import { z } from 'zod';
import { expertQuantizationSchema } from './expert-quantization.js';

/**
 * The model block of a deployment plan: what the planner and the expert functions need to know of a
 * model (shapes, routing, the bytes an expert function holds) and the checkpoint it belongs to.
 */
export const planModelSchema = z.object({
  name: z.string(),
  fingerprint: z.string(),
  architecture: z.string(),
  hiddenSize: z.number().int().positive(),
  expertIntermediateSize: z.number().int().positive(),
  numExperts: z.number().int().positive(),
  topK: z.number().int().positive(),
  /** Bytes of one routed expert's weights as an expert function holds them (float32 or quantized). */
  bytesPerExpert: z.number().int().nonnegative(),
  /** The format the expert graphs are built in; absent = float32 (`none`). */
  quantization: expertQuantizationSchema.optional(),
});
export type PlanModel = z.output<typeof planModelSchema>;

/** The plan's model block of a model summary (or of anything carrying those fields), without the rest. */
export function toPlanModel(model: PlanModel): PlanModel {
  return {
    name: model.name,
    fingerprint: model.fingerprint,
    architecture: model.architecture,
    hiddenSize: model.hiddenSize,
    expertIntermediateSize: model.expertIntermediateSize,
    numExperts: model.numExperts,
    topK: model.topK,
    bytesPerExpert: model.bytesPerExpert,
    quantization: model.quantization,
  };
}
