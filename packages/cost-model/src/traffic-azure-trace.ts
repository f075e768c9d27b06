import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CostModelError } from './errors.js';
import { type Traffic, trafficFromColumns } from './traffic.js';

/**
 * The two services of the Azure LLM inference trace 2023 (Patel et al., "Splitwise", ISCA 2024;
 * CC-BY 4.0), as bundled in `fixtures/data/azure-llm-inference-2023/` with their attribution.
 */
export const azureTraceFileNames = {
  code: 'AzureLLMInferenceTrace_code.csv',
  conversation: 'AzureLLMInferenceTrace_conv.csv',
} as const;

const header = ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'];
// `2023-11-16 18:17:03.9799600`: UTC, up to 7 fractional digits.
const timestampPattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const countPattern = /^\d+$/;
const minuteMs = 60_000;

function damaged(file: string, line: number, message: string): CostModelError {
  return new CostModelError({
    code: 'INVALID_INPUT',
    message: `${file}:${line}: ${message}`,
    location: `${file}:${line}`,
  });
}

/**
 * Parses one of the trace's CSV files (`TIMESTAMP,ContextTokens,GeneratedTokens`) into a Traffic:
 * arrivals in seconds from the start of the first arrival's minute, the window running to the end of
 * the last arrival's minute (the trace's counts are per minute), `startEpochMs` set so the two
 * services merge on one clock. A damaged line (wrong column count, a timestamp that is not a UTC date,
 * a count that is not a whole number, an arrival earlier than the line before) is an INVALID_INPUT
 * error naming `file:line`; nothing is skipped. `file` is only used in messages.
 */
export function parseAzureTrace(text: string, file: string): Traffic {
  const lines = text.split('\n');
  const first = (lines[0] ?? '').replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (first.split(',').join(',') !== header.join(','))
    throw damaged(file, 1, `expected the header "${header.join(',')}", got "${first.slice(0, 80)}"`);
  const epochMs: number[] = [];
  const promptTokens: number[] = [];
  const outputTokens: number[] = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '');
    const lineNumber = index + 1;
    if (line === '') {
      // Only a trailing empty line is allowed; an empty line in the middle is damage.
      if (lines.slice(index + 1).every((rest) => rest.replace(/\r$/, '') === '')) break;
      throw damaged(file, lineNumber, 'empty line inside the trace');
    }
    const fields = line.split(',');
    if (fields.length !== 3)
      throw damaged(
        file,
        lineNumber,
        `expected 3 comma-separated fields, got ${fields.length}: "${line.slice(0, 80)}"`,
      );
    const [timestamp, context, generated] = fields as [string, string, string];
    const match = timestampPattern.exec(timestamp);
    if (!match)
      throw damaged(file, lineNumber, `TIMESTAMP "${timestamp}" is not "YYYY-MM-DD hh:mm:ss.fffffff"`);
    const [, year, month, day, hour, minute, second, fraction] = match;
    const wholeMs = Date.UTC(+year!, +month! - 1, +day!, +hour!, +minute!, +second!);
    const check = new Date(wholeMs);
    if (
      Number.isNaN(wholeMs) ||
      check.getUTCDate() !== +day! ||
      check.getUTCMonth() !== +month! - 1 ||
      +hour! > 23 ||
      +minute! > 59 ||
      +second! > 59
    )
      throw damaged(file, lineNumber, `TIMESTAMP "${timestamp}" is not a valid date and time`);
    const ms = wholeMs + (fraction ? Number(`0.${fraction}`) * 1000 : 0);
    if (epochMs.length > 0 && ms < epochMs[epochMs.length - 1]!)
      throw damaged(
        file,
        lineNumber,
        `TIMESTAMP ${timestamp} is earlier than the line before (the trace is sorted)`,
      );
    for (const [name, value] of [
      ['ContextTokens', context],
      ['GeneratedTokens', generated],
    ] as const)
      if (!countPattern.test(value) || Number(value) > 0xffffffff)
        throw damaged(file, lineNumber, `${name} "${value}" is not a whole number of tokens`);
    epochMs.push(ms);
    promptTokens.push(Number(context));
    outputTokens.push(Number(generated));
  }
  if (epochMs.length === 0) throw damaged(file, 2, 'the trace has a header but no requests');
  const startEpochMs = Math.floor(epochMs[0]! / minuteMs) * minuteMs;
  const endEpochMs = (Math.floor(epochMs[epochMs.length - 1]! / minuteMs) + 1) * minuteMs;
  const name = basename(file);
  return trafficFromColumns({
    name: `azure-llm-2023/${name}`,
    durationS: (endEpochMs - startEpochMs) / 1000,
    arrivalS: epochMs.map((ms) => (ms - startEpochMs) / 1000),
    promptTokens,
    outputTokens,
    parameters: {
      kind: 'azure-llm-inference-2023',
      file: name,
      source:
        'Azure Public Dataset, AzureLLMInferenceDataset2023 (CC-BY 4.0; Patel et al., Splitwise, ISCA 2024)',
    },
    startEpochMs,
  });
}

/** Reads and parses a trace file; NOT_FOUND names the path when it cannot be read. */
export function loadAzureTrace(path: string): Traffic {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CostModelError({
      code: 'NOT_FOUND',
      message: `cannot read the Azure LLM trace ${path}`,
      location: path,
      cause: error,
    });
  }
  return parseAzureTrace(text, path);
}
