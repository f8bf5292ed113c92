import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

const instances: errors.ActiveRouterError[] = [
  new errors.StateOpenError('/x', new Error('denied')),
  new errors.StateMigrationError(0, 1, new Error('bad sql')),
  new errors.StateSchemaTooNewError(3, 1),
  new errors.StateMigrationListError('gap'),
  new errors.StateWriterThreadError('stuck'),
  new errors.StateSettingsError('batchRows', 'zero'),
  new errors.StateClosedError(),
  new errors.MetricsConfigError('queryRateN', 'one'),
  new errors.StatusListenError('in use'),
  new errors.DaemonStartError('no capture'),
];

describe('daemon errors', () => {
  it('covers every exported error class', () => {
    const classNames = Object.entries(errors)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof errors.ActiveRouterError)
      .map(([name]) => name)
      .sort();
    expect(classNames).toEqual(instances.map((i) => i.name).sort());
  });

  it.each(instances.map((e) => [e.name, e] as const))('%s has a documented stable code and its name', (name, e) => {
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe(name);
    expect(e.name).toBe(e.constructor.name);
    expect(errors.STATE_METRICS_ERROR_CODES[e.code]).toEqual(expect.any(String));
  });

  it('documents no code that no class uses', () => {
    expect(Object.keys(errors.STATE_METRICS_ERROR_CODES).sort()).toEqual(instances.map((e) => e.code).sort());
  });
});
