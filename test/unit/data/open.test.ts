import { afterAll, describe, expect, it } from 'vitest';
import { columnTypesFromMetadata } from '../../../sagemaker/data/columns.js';
import { openScoringData, openTrainingData, recordedDataFormat } from '../../../sagemaker/data/open.js';
import { failure, scratch } from './files.js';

const files = scratch('open');
afterAll(() => files.cleanup());

describe('openTrainingData', () => {
  it('types a column over the training and the validation file together', () => {
    // Prepare: `size` is numeric in train but not in valid; `n` is numeric in both.
    const train = files.write('train.csv', 'click,size,n\n1,3,1\n0,4,2\n');
    const valid = files.write('valid.csv', 'n,click,size\n3,0,big\n');

    // Act
    const data = openTrainingData(train, { format: 'csv', validationPath: valid });

    // Assess
    expect(Object.fromEntries(data.types)).toEqual({ size: 'categorical', n: 'numeric' });
    expect([...data.validation!.examples()()]).toEqual([{ features: { size: 'big', n: 3 }, label: 0 }]);
    expect(data.metadata).toEqual({
      data_format: 'csv',
      'column_type.size': 'categorical',
      'column_type.n': 'numeric',
    });
  });

  it('refuses a validation file whose columns differ', () => {
    // Prepare
    const train = files.write('t2.csv', 'click,a,b\n1,x,y\n');
    const valid = files.write('v2.csv', 'click,a,c\n1,x,y\n');

    // Act
    const error = failure(() => openTrainingData(train, { format: 'csv', validationPath: valid }));

    // Assess
    expect(error.message).toBe(`${valid}: its columns differ from ${train}'s: missing b; not in ${train}: c`);
  });

  it('refuses overrides of unknown columns, of the label, and of one column both ways', () => {
    // Prepare
    const train = files.write('t3.csv', 'click,a,b\n1,1,2\n');

    // Act
    const unknown = failure(() => openTrainingData(train, { format: 'csv', overrides: { numeric: ['zz'] } }));
    const label = failure(() => openTrainingData(train, { format: 'csv', overrides: { categorical: ['click'] } }));
    const both = failure(() =>
      openTrainingData(train, { format: 'csv', overrides: { numeric: ['a'], categorical: ['a'] } }),
    );

    // Assess
    expect(unknown.message).toBe(`${train}: --numeric zz: no such column (the feature columns are a, b)`);
    expect(label.message).toMatch(/--categorical click: click is the label, not a feature/);
    expect(both.message).toBe(`${train}: a: both --categorical and --numeric`);
  });

  it('types criteo I columns numeric and C columns categorical, and refuses a non-integer I cell', () => {
    // Prepare
    const cells = (i3: string) => [
      '0',
      '1',
      '2',
      i3,
      ...Array.from({ length: 10 }, () => '5'),
      ...Array.from({ length: 26 }, () => 'ab'),
    ];
    const good = files.write('good.txt', `${cells('3').join('\t')}\n`);
    const bad = files.write('bad.txt', `${cells('3').join('\t')}\n${cells('x').join('\t')}\n`);

    // Act
    const data = openTrainingData(good, { format: 'criteo' });
    const error = failure(() => openTrainingData(bad, { format: 'criteo' }));
    const asCategory = openTrainingData(bad, { format: 'criteo', overrides: { categorical: ['I3'] } });

    // Assess
    expect(data.types.get('I1')).toBe('numeric');
    expect(data.types.get('C26')).toBe('categorical');
    expect(error.message).toBe(`${bad}:2: criteo integer column I3: cell "x" is not a finite number`);
    expect(asCategory.types.get('I3')).toBe('categorical');
  });
});

describe('openScoringData', () => {
  const metadata = { data_format: 'csv', 'column_type.id': 'categorical', 'column_type.price': 'numeric' };

  it('types columns as the model recorded, not as the scored file would suggest', () => {
    // Prepare: `id` looks numeric here, but the model learned it as a category.
    const path = files.write('score.csv', 'id,price,unused\n17,2.5,q\n');

    // Act
    const { dataset, typesFrom, missingFields } = openScoringData(path, {
      format: 'csv',
      fields: ['id', 'price'],
      metadata,
      labels: 'optional',
    });

    // Assess
    expect([...dataset.featureMaps()()]).toEqual([{ id: '17', price: 2.5 }]);
    expect(typesFrom).toBe('model');
    expect(missingFields).toEqual([]);
  });

  it("lists the model's fields the file lacks", () => {
    // Prepare
    const path = files.write('partial.csv', 'id\n17\n');

    // Act
    const { missingFields } = openScoringData(path, {
      format: 'csv',
      fields: ['id', 'price'],
      metadata,
      labels: 'optional',
    });

    // Assess
    expect(missingFields).toEqual(['price']);
  });

  it('refuses a file that has none of the model fields', () => {
    // Prepare
    const path = files.write('other.csv', 'x,y\n1,2\n');

    // Act
    const error = failure(() => openScoringData(path, { format: 'csv', fields: ['id'], metadata, labels: 'optional' }));

    // Assess
    expect(error.message).toBe(`${path}: none of its columns is a field of the model (the model's fields: id)`);
  });

  it('detects the types from the file when the model records none', () => {
    // Prepare
    const path = files.write('detect.csv', 'id,price\n17,2.5\n');

    // Act
    const { dataset, typesFrom } = openScoringData(path, {
      format: 'csv',
      fields: ['id', 'price'],
      metadata: {},
      labels: 'optional',
    });

    // Assess
    expect(typesFrom).toBe('detected');
    expect([...dataset.featureMaps()()]).toEqual([{ id: 17, price: 2.5 }]);
  });

  it('reads back the types and the format recorded in the metadata', () => {
    // Act
    const types = columnTypesFromMetadata(['id', 'price', 'other'], metadata);

    // Assess
    expect(Object.fromEntries(types!)).toEqual({ id: 'categorical', price: 'numeric' });
    expect(recordedDataFormat(metadata)).toBe('csv');
    expect(recordedDataFormat({})).toBeNull();
  });
});
