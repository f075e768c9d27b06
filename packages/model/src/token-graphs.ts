import type { Checkpoint } from './checkpoint.js';
import { GraphBuilder } from './graph-builder.js';

/** Token embedding: `input_ids` int64 [T] → `hidden` [T, H] (the runtime writes its weights as external data). */
export function embeddingGraph(checkpoint: Checkpoint): GraphBuilder {
  const c = checkpoint.config;
  const g = new GraphBuilder('embedding');
  const ids = g.input('input_ids', 'int64', ['T']);
  const table = g.weight(
    'embed_tokens',
    [c.vocabSize, c.hiddenSize],
    checkpoint.float32(c.names.embed, [c.vocabSize, c.hiddenSize]),
  );
  g.output(g.op('Gather', [table, ids], { axis: 0 }), 'hidden', 'float', ['T', c.hiddenSize]);
  return g;
}

/** Final norm + LM head: outputs `final_hidden` [T, H] and `logits` [T, V] (weights written as external data). */
export function headGraph(checkpoint: Checkpoint): GraphBuilder {
  const c = checkpoint.config;
  const H = c.hiddenSize;
  const V = c.vocabSize;
  const g = new GraphBuilder('head');
  const x = g.input('hidden', 'float', ['T', H]);
  const normed = g.rmsNorm(x, 'final_norm', checkpoint.float32(c.names.finalNorm, [H]), c.rmsNormEps);
  g.output(normed, 'final_hidden', 'float', ['T', H]);
  const headName = c.tieWordEmbeddings && !checkpoint.has(c.names.lmHead) ? c.names.embed : c.names.lmHead;
  g.output(
    g.linear('final_hidden', 'lm_head', checkpoint.float32(headName, [V, H]), V, H),
    'logits',
    'float',
    ['T', V],
  );
  return g;
}
