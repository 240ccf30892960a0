import { describe, expect, it } from 'vitest';
import { compileRowBuilder } from '../../../sagemaker/data/row-builder.js';

describe('compileRowBuilder', () => {
  it('builds a map with the given names, in order, from the values', () => {
    // Prepare
    const build = compileRowBuilder(['site', 'price', 'device']);

    // Act
    const features = build(['a.com', 2.5, null]);

    // Assess
    expect(features).toEqual({ site: 'a.com', price: 2.5, device: null });
    expect(Object.keys(features)).toEqual(['site', 'price', 'device']);
  });

  it('takes names that are not identifiers, or that would break out of the generated code, literally', () => {
    // Prepare
    const names = ['a b', 'x"y', "it's", 'back\\slash', 'new\nline', '}; throw 1; //', '1', ''];
    const build = compileRowBuilder(names);

    // Act
    const features = build(names.map((_, i) => i));

    // Assess
    expect(Object.fromEntries(names.map((n, i) => [n, i]))).toEqual(features);
  });

  it('makes __proto__ an own field, not the prototype', () => {
    // Prepare
    const build = compileRowBuilder(['a', '__proto__']);

    // Act
    const features = build(['x', 'y']);

    // Assess
    expect(Object.getPrototypeOf(features)).toBe(Object.prototype);
    expect(Object.hasOwn(features, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(features, '__proto__')?.value).toBe('y');
    expect(Object.keys(features)).toEqual(['a', '__proto__']);
  });
});
