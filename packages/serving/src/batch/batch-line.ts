import { describeError } from '@switchyard/core';
import { z } from 'zod';

/** One input line of OpenAI's batch format (as `vllm run-batch` reads it). */
export const batchRequestLineSchema = z.object({
  custom_id: z.string().min(1, 'custom_id must not be empty'),
  method: z.literal('POST', 'method must be "POST"'),
  url: z.string().min(1),
  body: z.record(z.string(), z.unknown()),
});

export type BatchRequestLine = z.output<typeof batchRequestLineSchema>;

/** An error of one line: OpenAI's `{ code, message }`, plus the 1-based input line when no custom_id could stand for it. */
export interface BatchLineError {
  code: string;
  message: string;
  line?: number;
}

/** One output line: OpenAI's batch output format. */
export interface BatchOutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: BatchLineError | null;
  /** With cost attribution: this request's share of every expert invocation it rode in. */
  cost?: LineCost;
}

export interface LineCost {
  billed_gb_seconds: number;
  invocations: number;
  usd: number;
}

/** A line of the input, either a request to run or the error line it gets without running. */
export type ParsedLine =
  | { kind: 'request'; line: number; request: BatchRequestLine }
  | { kind: 'error'; line: number; customId: string | null; error: BatchLineError };

/**
 * The key a line's output is found by on resume: its custom_id, or `line:N` for an error line that
 * names its input line (malformed, no custom_id, a duplicate custom_id).
 */
export function outputKey(line: Pick<BatchOutputLine, 'custom_id' | 'error'>): string {
  if (line.error?.line !== undefined) return `line:${line.error.line}`;
  return line.custom_id ?? '';
}

/**
 * Splits the input into the requests to run and the lines that are errors on their own: JSON that does
 * not parse, a line that is not a batch request (no custom_id, not POST), a custom_id seen on an earlier
 * line, a url the dispatcher does not serve. Blank lines are skipped. Nothing here ends the job.
 */
export function parseBatchInput(text: string, urls: readonly string[]): ParsedLine[] {
  const parsed: ParsedLine[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      parsed.push({
        kind: 'error',
        line,
        customId: null,
        error: { code: 'invalid_json', message: `line ${line} is not JSON: ${describeError(error)}`, line },
      });
      return;
    }
    const result = batchRequestLineSchema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field = issue.path.join('.') || 'line';
      const candidate = (json as { custom_id?: unknown } | null)?.custom_id;
      const customId = typeof candidate === 'string' && candidate !== '' ? candidate : null;
      // A line that names a fresh custom_id answers under it; otherwise under its line number.
      const named = customId !== null && !seen.has(customId);
      if (named) seen.set(customId, line);
      parsed.push({
        kind: 'error',
        line,
        customId,
        error: {
          code: 'invalid_request',
          message: `line ${line}: ${field}: ${issue.message}`,
          ...(named ? {} : { line }),
        },
      });
      return;
    }
    const request = result.data;
    const first = seen.get(request.custom_id);
    if (first !== undefined) {
      parsed.push({
        kind: 'error',
        line,
        customId: request.custom_id,
        error: {
          code: 'duplicate_custom_id',
          message: `line ${line}: custom_id "${request.custom_id}" was already used on line ${first}; only that line runs`,
          line,
        },
      });
      return;
    }
    seen.set(request.custom_id, line);
    if (!urls.includes(request.url)) {
      parsed.push({
        kind: 'error',
        line,
        customId: request.custom_id,
        error: {
          code: 'invalid_url',
          message: `line ${line}: url "${request.url}" is not served in a batch; use ${urls.join(' or ')}`,
        },
      });
      return;
    }
    parsed.push({ kind: 'request', line, request });
  });
  return parsed;
}

/** The key of a parsed line's output (see `outputKey`). */
export function parsedLineKey(parsed: ParsedLine): string {
  if (parsed.kind === 'request') return parsed.request.custom_id;
  return parsed.error.line !== undefined ? `line:${parsed.error.line}` : (parsed.customId ?? '');
}

/**
 * A rough size of a request for packing order: characters of its prompt or messages plus its token
 * budget (longest-first packing only needs the order right, not the count).
 */
export function requestSize(request: BatchRequestLine): number {
  const { body } = request;
  const prompt = body.prompt ?? body.messages ?? '';
  const text = typeof prompt === 'string' ? prompt : JSON.stringify(prompt);
  const budget = Number(body.max_completion_tokens ?? body.max_tokens ?? 0);
  return text.length + (Number.isFinite(budget) ? budget : 0);
}
