import { describe, expect, it } from 'vitest';
import { assertKnownKeys, closestKey } from '../src/validation.js';
import { ConfigError, ArgumentError } from '../src/errors.js';
describe('assertKnownKeys', () => {
  it('suggests', () => {
    expect(closestKey('patiense', ['patience', 'monitor'])).toBe('patience');
    expect(closestKey('learning_rate', ['learningRate', 'beta1'])).toBe('learningRate');
    expect(closestKey('reductoin', ['reduction'])).toBe('reduction');
    expect(closestKey('zzz', ['reduction'])).toBeUndefined();
    expect(() => assertKnownKeys({ hiddenUnits: [4] }, ['latentDim', 'units'], 'config', 'nets.x')).toThrow(ConfigError);
    expect(() => assertKnownKeys({ reductoin: 'sum' }, ['reduction'], 'options', 'f')).toThrow(
      /f: argument 'options.reductoin' must be one of the known options \(reduction\), received an unknown key. Did you mean 'reduction'\?/,
    );
    expect(() => assertKnownKeys({ a: 1 }, ['a'], 'options', 'f')).not.toThrow();
    expect(() => assertKnownKeys(undefined, ['a'], 'options', 'f')).not.toThrow();
    expect(() => assertKnownKeys(5, ['a'], 'options', 'f')).toThrow(ArgumentError);
  });
});
