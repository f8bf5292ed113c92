import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlacementOrder } from './placement-order.js';

/** An owner as the registry keeps one: a map of key → stamp, bounded, oldest out first. */
function owner(slack?: number) {
  const map = new Map<number, number>();
  const order = new PlacementOrder<number>(
    (k) => map.get(k),
    () => map.size,
    slack,
  );
  return { map, order, place: (k: number) => void map.set(k, order.place(k)) };
}

describe('PlacementOrder', () => {
  it('gives the oldest placed key, as a list in placement order would, through moves and deletes', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('place' as const), k: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ t: fc.constant('delete' as const), k: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ t: fc.constant('oldest' as const) }),
      fc.record({ t: fc.constant('walk' as const), stop: fc.integer({ min: 0, max: 30 }) }),
    );
    // The walk's visitor: stops at `stop`, deletes even keys, keeps odd ones.
    const step = (k: number, stop: number): 'stop' | 'delete' | 'keep' => (k === stop ? 'stop' : k % 2 === 0 ? 'delete' : 'keep');
    fc.assert(
      // Slack 0 to 3: compactions happen all the time, between the moves, deletes and takes.
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 0, max: 3 }), (ops, slack) => {
        const o = owner(slack);
        const model: number[] = [];
        for (const x of ops) {
          if (x.t === 'place') {
            // New, or moved to the end.
            const at = model.indexOf(x.k);
            if (at >= 0) model.splice(at, 1);
            model.push(x.k);
            o.place(x.k);
          } else if (x.t === 'delete') {
            const at = model.indexOf(x.k);
            if (at >= 0) model.splice(at, 1);
            o.map.delete(x.k);
          } else if (x.t === 'walk') {
            const visited: number[] = [];
            o.order.walk((k) => {
              visited.push(k);
              const what = step(k, x.stop);
              if (what === 'delete') o.map.delete(k);
              return what !== 'stop';
            });
            const expected: number[] = [];
            for (const k of [...model]) {
              expected.push(k);
              const what = step(k, x.stop);
              if (what === 'stop') break;
              if (what === 'delete') model.splice(model.indexOf(k), 1);
            }
            expect(visited).toEqual(expected);
          } else {
            const k = o.order.takeOldest();
            expect(k).toBe(model.shift());
            if (k !== undefined) o.map.delete(k);
          }
          expect(o.order.liveKeys()).toEqual(model);
        }
      }),
    );
  });

  it('stays within twice the live entries plus 1,025 slots under endless churn', () => {
    const o = owner();
    for (let i = 0; i < 50_000; i++) {
      o.place(i % 700); // new keys, each pushing the oldest out
      if (o.map.size > 500) o.map.delete(o.order.takeOldest()!);
      expect(o.order.slotCount).toBeLessThanOrEqual(2 * o.map.size + 1025);
    }
    for (let i = 0; i < 50_000; i++) {
      o.place((i * 7) % 300); // keys still held, moved to the end: a stale slot each
      expect(o.order.slotCount).toBeLessThanOrEqual(2 * o.map.size + 1025);
    }
    o.map.clear();
    expect(o.order.takeOldest()).toBeUndefined();
  });
});
