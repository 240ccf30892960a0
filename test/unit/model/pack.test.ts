import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidModelError, loadModel, saveModel } from '../../../sagemaker/model/artifact.js';
import { packModel, unpackModel } from '../../../sagemaker/model/pack.js';
import { randomModel, rawTarGz, tempDir } from './helpers.js';

async function savedModel(): Promise<string> {
  const dir = await tempDir();
  await saveModel(dir, randomModel({ bits: 12 }));
  return dir;
}

/** The InvalidModelError unpackModel rejects with; checks nothing was written. */
async function refusal(source: string | Uint8Array, maxBytes?: number): Promise<string> {
  const dest = join(await tempDir(), 'out');
  const error = await unpackModel(source, dest, maxBytes === undefined ? {} : { maxBytes }).then(
    () => expect.unreachable('the archive should have been refused'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidModelError);
  await expect(readdir(dest)).rejects.toThrow(/ENOENT/);
  return (error as Error).message;
}

describe('packModel and unpackModel', () => {
  it('round-trip a model folder', async () => {
    // Prepare
    const dir = await savedModel();
    const dest = join(await tempDir(), 'unpacked');

    // Act
    const packed = await packModel(dir);
    const result = await unpackModel(packed, dest);

    // Assess
    expect(result.files).toEqual(['counts.bin', 'factors.bin', 'model.json', 'weights.bin']);
    const [original, copy] = await Promise.all([loadModel(dir), loadModel(dest)]);
    expect(copy.manifest).toEqual(original.manifest);
    expect(Buffer.from(copy.weights.buffer, copy.weights.byteOffset, copy.weights.byteLength)).toEqual(
      await readFile(join(dir, 'weights.bin')),
    );
  });

  it('unpacks from a file path too', async () => {
    // Prepare
    const dir = await savedModel();
    const file = join(await tempDir(), 'model.tar.gz');
    await writeFile(file, await packModel(dir));
    const dest = join(await tempDir(), 'unpacked');

    // Act
    await unpackModel(file, dest, { maxBytes: 1024 * 1024 });

    // Assess
    expect((await loadModel(dest)).manifest).toEqual((await loadModel(dir)).manifest);
  });

  it('packs the same folder into the same bytes', async () => {
    // Prepare
    const dir = await savedModel();

    // Act
    const [a, b] = [await packModel(dir), await packModel(dir)];

    // Assess
    expect(b).toEqual(a);
  });

  it('refuses to pack a folder that is not a valid model', async () => {
    // Prepare
    const dir = await savedModel();
    await writeFile(join(dir, 'weights.bin'), Buffer.alloc(8));

    // Act
    const attempt = packModel(dir);

    // Assess
    await expect(attempt).rejects.toThrow(InvalidModelError);
  });

  it('accepts the ./ entries that `tar -C dir .` writes', async () => {
    // Prepare
    const archive = rawTarGz([
      { name: './', type: '5' },
      { name: './model.json', content: '{}' },
      { name: './weights.bin', content: 'abcd' },
    ]);
    const dest = join(await tempDir(), 'out');

    // Act
    const result = await unpackModel(archive, dest);

    // Assess
    expect(result).toMatchObject({ files: ['model.json', 'weights.bin'], bytes: 6 });
    expect(await readFile(join(dest, 'weights.bin'), 'utf8')).toBe('abcd');
  });

  it('refuses to unpack into a folder that is not empty', async () => {
    // Prepare
    const dest = await tempDir();
    await writeFile(join(dest, 'model.json'), 'old');

    // Act
    const attempt = unpackModel(rawTarGz([{ name: 'model.json', content: 'new' }]), dest);

    // Assess
    await expect(attempt).rejects.toThrow(/not empty/);
    expect(await readFile(join(dest, 'model.json'), 'utf8')).toBe('old');
  });
});

describe('unpackModel refuses', () => {
  it('an entry that climbs out with ../', async () => {
    // Act
    const message = await refusal(
      rawTarGz([
        { name: 'model.json', content: '{}' },
        { name: '../evil', content: 'pwned' },
      ]),
    );

    // Assess
    expect(message).toMatch(/"\.\.\/evil" escapes the folder/);
  });

  it('an absolute path', async () => {
    // Act
    const message = await refusal(rawTarGz([{ name: '/tmp/evil', content: 'x' }]));

    // Assess
    expect(message).toMatch(/absolute path/);
  });

  it('symbolic and hard links', async () => {
    // Act
    const symlink = await refusal(rawTarGz([{ name: 'model.json', type: '2', linkname: '/etc/passwd' }]));
    const hardlink = await refusal(rawTarGz([{ name: 'weights.bin', type: '1', linkname: 'model.json' }]));

    // Assess
    expect(symlink).toMatch(/SymbolicLink: only plain files/);
    expect(hardlink).toMatch(/Link: only plain files/);
  });

  it('a device', async () => {
    // Act
    const message = await refusal(rawTarGz([{ name: 'null', type: '3' }]));

    // Assess
    expect(message).toMatch(/CharacterDevice/);
  });

  it('nested folders and files in them', async () => {
    // Act
    const folder = await refusal(rawTarGz([{ name: 'sub/', type: '5' }]));
    const nested = await refusal(rawTarGz([{ name: 'sub/model.json', content: '{}' }]));

    // Assess
    expect(folder).toMatch(/directory/);
    expect(nested).toMatch(/subfolder/);
  });

  it('the same name twice', async () => {
    // Act
    const message = await refusal(
      rawTarGz([
        { name: 'model.json', content: '{}' },
        { name: './model.json', content: '{"x":1}' },
      ]),
    );

    // Assess
    expect(message).toMatch(/appears twice/);
  });

  it('random bytes', async () => {
    // Act
    const message = await refusal(randomBytes(4096));

    // Assess
    expect(message).toMatch(/not a gzip archive/);
  });

  it('a gzip that holds no tar', async () => {
    // Act
    const message = await refusal(gzipSync(randomBytes(4096)));

    // Assess
    expect(message).toMatch(/not a valid tar archive/);
  });

  it('a truncated gzip', async () => {
    // Prepare
    const packed = await packModel(await savedModel());

    // Act
    const message = await refusal(packed.subarray(0, Math.floor(packed.length / 2)));

    // Assess
    expect(message).toMatch(/corrupt gzip data/);
  });

  it('an archive with no files', async () => {
    // Act
    const message = await refusal(rawTarGz([{ name: './', type: '5' }]));

    // Assess
    expect(message).toMatch(/holds no files/);
  });

  it('an archive whose files exceed maxBytes', async () => {
    // Prepare
    const archive = rawTarGz([
      { name: 'model.json', content: Buffer.alloc(600) },
      { name: 'weights.bin', content: Buffer.alloc(600) },
    ]);

    // Act
    const message = await refusal(archive, 1000);

    // Assess
    expect(message).toMatch(/more than 1000 bytes/);
  });

  it('a gzip bomb, before inflating it all', async () => {
    // Prepare: 64 MiB of zeros, about 64 KiB compressed.
    const bomb = rawTarGz([{ name: 'weights.bin', content: Buffer.alloc(64 * 1024 * 1024) }]);

    // Act
    const message = await refusal(bomb, 1024 * 1024);

    // Assess
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(message).toMatch(/unpacks to more than 1048576 bytes/);
  });
});
