import {
  type ExpertQuantization,
  type ExpertQuantizationFormat,
  expertQuantizationFormats,
  int4BlockSizes,
  SwitchyardError,
} from '@switchyard/core';
import { type Command, Option } from 'commander';

/** The `--quantize` / `--quantize-block` flags as commander gives them. */
export interface QuantizeFlags {
  quantize?: ExpertQuantizationFormat;
  quantizeBlock?: string;
}

/**
 * Adds `--quantize none|int8|int4` and `--quantize-block 32|128` (architecture/quantization.md): the
 * format the routed experts' graphs are built in, once at load or deploy.
 */
export function addQuantizeOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--quantize <format>',
        'routed expert weights: none (float32), int8 (per output channel) or int4 (block-wise)',
      ).choices([...expertQuantizationFormats]),
    )
    .addOption(
      new Option('--quantize-block <n>', 'int4: input values per scale (default 32)').choices(
        int4BlockSizes.map(String),
      ),
    );
}

function describe(quantization: ExpertQuantization | undefined): string {
  if (!quantization || quantization.format === 'none') return 'none (float32)';
  return quantization.format === 'int4' ? `int4 (block ${quantization.blockSize ?? 32})` : 'int8';
}

function same(a: ExpertQuantization | undefined, b: ExpertQuantization | undefined): boolean {
  return describe(a) === describe(b);
}

/**
 * The quantization the flags ask for, checked against the one a plan (or profile) was made for:
 * without `--quantize` the plan's is used; a different `--quantize` is INVALID_INPUT naming both.
 * Returns undefined for float32.
 */
export function quantizationFromFlags(
  flags: QuantizeFlags,
  recorded?: { quantization: ExpertQuantization | undefined; source: string },
): ExpertQuantization | undefined {
  if (flags.quantizeBlock !== undefined && flags.quantize !== 'int4')
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `--quantize-block applies to --quantize int4 only (got --quantize ${flags.quantize ?? 'none'})`,
      location: '--quantize-block',
    });
  const asked: ExpertQuantization | undefined =
    flags.quantize === undefined
      ? undefined
      : flags.quantize === 'int4'
        ? { format: 'int4', blockSize: Number(flags.quantizeBlock ?? 32) as 32 | 128 }
        : { format: flags.quantize };
  if (!recorded) return asked?.format === 'none' ? undefined : asked;
  if (asked && !same(asked, recorded.quantization))
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `${recorded.source} was made for ${describe(recorded.quantization)} experts but --quantize asks for ${describe(asked)}; re-plan with --quantize or drop the flag`,
      location: '--quantize',
    });
  const chosen = asked ?? recorded.quantization;
  return chosen?.format === 'none' ? undefined : chosen;
}
