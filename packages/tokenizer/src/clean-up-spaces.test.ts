import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CleanUpStream, cleanUpTokenizationSpaces } from './clean-up-spaces.js';

describe('cleanUpTokenizationSpaces', () => {
  test('removes the space before punctuation and contractions, as transformers does', () => {
    expect(
      cleanUpTokenizationSpaces("Hello , world ! It is n't here . Is it ? I 'm sure ' ok ' we 've won"),
    ).toBe("Hello, world! It isn't here. Is it? I'm sure'ok'we've won");
    expect(cleanUpTokenizationSpaces('no spaces')).toBe('no spaces');
  });
});

describe('CleanUpStream', () => {
  // The characters the replacement patterns are made of, so pieces often cut a pattern in two.
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom(' ', "'", '.', 'n', 't', 's', 'x'), maxLength: 24 }),
    fc.string({
      unit: fc.constantFrom(' ', '.', '?', '!', ',', "'", 'n', 't', 'm', 's', 'v', 'e', 'r', 'x'),
      maxLength: 60,
    }),
  );
  const cuts = fc.array(fc.nat({ max: 60 }), { maxLength: 12 });

  test('text cleaned up in pieces equals the one-shot clean-up, wherever the pieces are cut', () => {
    fc.assert(
      fc.property(text, cuts, (input, positions) => {
        const points = [...new Set(positions.map((p) => Math.min(p, input.length)))].sort((a, b) => a - b);
        const stream = new CleanUpStream();
        let streamed = '';
        let start = 0;
        for (const point of [...points, input.length]) {
          streamed += stream.push(input.slice(start, point));
          start = point;
        }
        streamed += stream.flush();
        expect(streamed).toBe(cleanUpTokenizationSpaces(input));
      }),
      { seed: 17, numRuns: 5000 },
    );
  });

  test('every string of up to six pattern characters, cut anywhere, cleans up as in one shot', () => {
    const alphabet = [' ', "'", '.', 'n', 't', 's'];
    const failures: string[] = [];
    const visit = (input: string): void => {
      for (let cut = 0; cut <= input.length; cut++) {
        const stream = new CleanUpStream();
        const streamed = stream.push(input.slice(0, cut)) + stream.push(input.slice(cut)) + stream.flush();
        if (streamed !== cleanUpTokenizationSpaces(input))
          failures.push(`${JSON.stringify(input)} cut at ${cut}`);
      }
      const perCharacter = new CleanUpStream();
      let streamed = '';
      for (const character of input) streamed += perCharacter.push(character);
      if (streamed + perCharacter.flush() !== cleanUpTokenizationSpaces(input))
        failures.push(`${JSON.stringify(input)} one character at a time`);
      if (input.length < 6) for (const character of alphabet) visit(input + character);
    };
    visit('');
    expect(failures.slice(0, 5)).toEqual([]);
  });

  test('holds back only the characters a later piece could change', () => {
    const stream = new CleanUpStream();
    expect(stream.push('word one')).toBe('word one');
    expect(stream.push(' ')).toBe('');
    expect(stream.push('.')).toBe('');
    expect(stream.push(' next')).toBe('. next');
    expect(stream.flush()).toBe('');
  });
});
