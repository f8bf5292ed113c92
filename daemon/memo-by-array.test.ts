import { describe, expect, it } from 'vitest';
import { memoByArray } from './memo-by-array.js';

describe('memoByArray', () => {
  it('computes once per array, again for another array with the same items or one whose length changed', () => {
    let calls = 0;
    const joined = memoByArray((a: string[]) => {
      calls++;
      return a.join('+');
    });
    const words = ['b', 'a'];
    expect([joined(words), joined(words)]).toEqual(['b+a', 'b+a']);
    expect(calls).toBe(1);
    expect(joined(['b', 'a'])).toBe('b+a');
    expect(calls).toBe(2);
    words.push('c');
    expect(joined(words)).toBe('b+a+c');
    expect(calls).toBe(3);
  });
});
