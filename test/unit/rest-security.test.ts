// The pieces of REST security that need no process: which addresses are loopback, how the token
// is read, when an open REST port refuses to start, and which paths lie under the allowed roots.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { checkRestExposure, isLoopback, restToken } from '../../jobmanager/rest/rest-auth.js';
import { StatePaths, stateRoots } from '../../jobmanager/rest/state-paths.js';

const dir = mkdtempSync(join(tmpdir(), 'weir-rest-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('REST token and exposure', () => {
  it('knows loopback addresses', () => {
    for (const a of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      'LOCALHOST',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopback(a), a).toBe(true);
    for (const a of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      '::ffff:10.0.0.1',
      'example.com',
      'localhost.example.com',
      '',
    ])
      expect(isLoopback(a), a).toBe(false);
  });

  it('reads the token inline or from a file, trimmed; refuses both, an empty one and one with spaces', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '  abc123\n');
    expect(restToken(new Configuration())).toBeUndefined();
    expect(restToken(new Configuration({ 'security.rest.token': 'xyz' }))).toBe('xyz');
    expect(restToken(new Configuration({ 'security.rest.token-file': file }))).toBe('abc123');
    expect(() =>
      restToken(new Configuration({ 'security.rest.token': 'a', 'security.rest.token-file': file })),
    ).toThrow(/not both/);
    expect(() => restToken(new Configuration({ 'security.rest.token': ' ' }))).toThrow(/is empty/);
    expect(() => restToken(new Configuration({ 'security.rest.token': 'a b' }))).toThrow(/printable ASCII/);
    expect(() => restToken(new Configuration({ 'security.rest.token-file': join(dir, 'missing') }))).toThrow(
      /cannot read security\.rest\.token-file/,
    );
  });

  it('refuses a non-loopback bind without a token unless the risk is accepted', () => {
    const open = new Configuration({ 'rest.bind-address': '0.0.0.0' });
    expect(() => checkRestExposure(open, undefined)).toThrow(
      /security\.rest\.token.*security\.rest\.allow-unauthenticated: true/,
    );
    expect(() => checkRestExposure(open, 'secret')).not.toThrow();
    expect(() =>
      checkRestExposure(
        new Configuration({ 'rest.bind-address': '0.0.0.0', 'security.rest.allow-unauthenticated': 'true' }),
        undefined,
      ),
    ).not.toThrow();
    expect(() => checkRestExposure(new Configuration(), undefined)).not.toThrow();
  });
});

describe('StatePaths', () => {
  const savepoints = join(dir, 'sp');
  const extra = join(dir, 'extra');
  const outside = join(dir, 'outside');
  for (const d of [savepoints, extra, outside]) mkdirSync(d, { recursive: true });
  symlinkSync(outside, join(savepoints, 'out-link'));
  const conf = new Configuration({ 'state.savepoints.dir': savepoints, 'security.rest.allowed-dirs': ` ${extra} ; ` });
  const paths = StatePaths.of(conf, join(dir, 'jm'));

  it('has state.savepoints.dir, state.checkpoints.dir (or its default) and the allowed directories as roots', () => {
    expect(paths.roots).toEqual([savepoints, join(dir, 'jm', 'checkpoints'), extra]);
    expect(stateRoots(new Configuration({ 'state.checkpoints.dir': '/data/chk' }), '/wd')).toEqual(['/data/chk']);
    expect(() => stateRoots(new Configuration({ 'security.rest.allowed-dirs': 'relative' }), '/wd')).toThrow(
      /absolute/,
    );
  });

  it('accepts paths under a root, also ones that do not exist yet', async () => {
    for (const p of [
      savepoints,
      join(savepoints, 'new', 'deeper'),
      join(extra, 'x', '_metadata'),
      join(dir, 'jm', 'checkpoints', 'abc', 'chk-1'),
      `${extra}/a/../b`,
    ]) {
      await expect(paths.check(p, 'path')).resolves.toBe(p);
    }
  });

  it('refuses paths outside, through `..` or a symbolic link, and malformed ones', async () => {
    for (const p of [
      outside,
      '/',
      '/etc/passwd',
      `${savepoints}/../outside`,
      `${savepoints}-evil`,
      join(savepoints, 'out-link'),
      join(savepoints, 'out-link', 'new'),
    ]) {
      await expect(paths.check(p, 'path'), p).rejects.toMatchObject({ status: 403 });
    }
    for (const p of ['relative', '', 'a\u0000b', `/${'x'.repeat(5000)}`, 7, null, ['/tmp']]) {
      await expect(paths.check(p, 'path'), String(p)).rejects.toMatchObject({ status: 400 });
    }
  });
});
