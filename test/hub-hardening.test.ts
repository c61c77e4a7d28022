// Issue 10, the Hub and cache half: inputs that must never escape the cache or be accepted silently.
//   - repo ids and revisions are checked before any path is built (nothing is created outside the cache);
//   - a refs file that does not hold a commit hash is an error naming it;
//   - non-LFS downloads are checked against their git-sha1 ETag;
//   - cached files are checked before reuse (size always; hash with verify) and repaired; force_download;
//   - a full disk, an unwritable cache and a body longer than announced stop at once, with clear messages;
//   - `cache ls` lists around odd entries; `download .` says it is a local folder.
// All against the fake Hub on 127.0.0.1 (test/helpers/hub-server.ts), the real download code running.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HubError, hfHubDownload, resolveModelFolder, scanCache, type PretrainedOptions } from '../src/node/hub/index.js';
import { validateRepoId } from '../src/node/hub/cache.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { FAKE_COMMIT, FakeHub, gitBlobSha1, sha256Hex } from './helpers/hub-server.js';
import { CLI_MAIN, runTsx } from './helpers/cli.js';
import { tempDirs } from './helpers/temp.js';

const tmp = tempDirs('gpt2-lens-hub-hard-');
const MODEL_BYTES = readFileSync(join(FIXTURE_DIR, 'model.safetensors'));
const MODEL_SHA = sha256Hex(MODEL_BYTES);
const CONFIG_ETAG = gitBlobSha1(readFileSync(join(FIXTURE_DIR, 'config.json')));
const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };

let hub: FakeHub;
before(async () => {
  hub = await new FakeHub().start();
});
after(() => hub.stop());

const opts = (cache: string, extra: Partial<PretrainedOptions> = {}): PretrainedOptions => ({ endpoint: hub.url, cache_dir: cache, env: {}, quiet: true, ...fast, ...extra });
const repoDir = (cache: string): string => join(cache, 'models--org--gpt2-tiny');

/** Every path under `root` (bounded: the test makes a handful of files). */
function allPaths(root: string): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0 && out.length < 10_000) {
    const dir = stack.pop()!;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      out.push(p.slice(root.length + 1));
      if (e.isDirectory()) stack.push(p);
    }
  }
  return out.sort();
}

/** The CLI in a child process, pointed at the fake Hub and `cache`. */
function cli(cache: string, ...args: string[]) {
  return runTsx([CLI_MAIN, ...args], { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_DISABLE_IMPLICIT_TOKEN: '1', HF_HUB_OFFLINE: '' });
}

describe('repo ids and revisions never escape the cache', () => {
  const BAD_REVISIONS: Array<[string, string]> = [
    ['../../../victim.txt', '".." is not allowed in a revision'],
    ['refs/../../victim', '".." is not allowed in a revision'],
    ['..', '".." is not allowed in a revision'],
    ['', 'it is empty'],
    ['/tmp/victim', 'it is an absolute path'],
    ['refs//main', 'it has an empty part (a "//" or a trailing "/")'],
    ['refs/pr/', 'it has an empty part (a "//" or a trailing "/")'],
    ['.', '"." is not allowed as a part of a revision'],
    ['..\\..\\victim', 'it contains a backslash'],
    ['main\u0000x', 'it contains a control character'],
  ];

  it(`refuses ${BAD_REVISIONS.length} bad revisions, each named with what is wrong, even when the Hub answers them; nothing is written anywhere`, async () => {
    const parent = tmp();
    const cache = join(parent, 'cache');
    let refused = 0;
    for (const [rev, why] of BAD_REVISIONS) {
      hub.extraRevisions.add(rev); // a mirror that answers anything
      for (const call of [() => resolveModelFolder('org/gpt2-tiny', opts(cache, { revision: rev })), () => hfHubDownload('org/gpt2-tiny', 'config.json', opts(cache, { revision: rev }))]) {
        await assert.rejects(call(), (err: HubError) => {
          assert.equal(err.code, 'InvalidRevision');
          assert.equal(err.message.split('. A revision is')[0], `revision ${JSON.stringify(rev)} is not valid: ${why}`);
          return true;
        });
        refused++;
      }
    }
    assert.equal(refused, 2 * BAD_REVISIONS.length);
    assert.deepEqual(allPaths(parent), [], 'nothing was created, in the cache or beside it');
  });

  it('refs/pr/1 (a revision with "/") works and is cached as refs/refs/pr/1, as huggingface_hub does', async () => {
    const cache = tmp();
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache, { revision: 'refs/pr/1' }));
    assert.equal(folder, join(repoDir(cache), 'snapshots', FAKE_COMMIT));
    assert.equal(readFileSync(join(repoDir(cache), 'refs', 'refs', 'pr', '1'), 'utf8'), FAKE_COMMIT);
    assert.ok(hub.requests.some((r) => r.method === 'HEAD' && r.path === '/org/gpt2-tiny/resolve/refs/pr/1/config.json'));
  });

  it("repo ids follow huggingface_hub's validate_repo_id (its docstring's examples and more)", () => {
    let checked = 0;
    for (const ok of ['gpt2', 'foo/bar', '123', 'Foo-BAR_foo.bar123', 'openai-community/gpt2', 'a/b', `a/${'x'.repeat(96)}`]) {
      validateRepoId(ok);
      checked++;
    }
    const bad: Array<[string, RegExp]> = [
      ['datasets/foo/bar', /it has more than one "\/"/],
      ['.repo_id', /each part starts and ends with a letter or digit/],
      ['foo--bar', /it contains "--" or "\.\."/],
      ['other..repo..id', /it contains "--" or "\.\."/],
      ['foo.git', /it ends with "\.git"/],
      ['org/-x', /each part starts and ends/],
      ['org/x-', /each part starts and ends/],
      ['-org/x', /each part starts and ends/],
      ['', /it is empty/],
      ['org/a b', /use letters, digits/],
      [`a/${'x'.repeat(97)}`, /at most 96 characters/],
      ['..', /each part starts and ends/],
      ['org/..', /each part starts and ends/],
    ];
    for (const [id, why] of bad) {
      assert.throws(() => validateRepoId(id), (err: HubError) => err.code === 'InvalidRepoId' && err.message.startsWith(`${JSON.stringify(id)} is not a Hugging Face repo id: `) && why.test(err.message), id);
      checked++;
    }
    assert.equal(checked, 7 + 13);
  });

  it('the CLI: --revision "" and --revision .. are usage errors (exit 2) naming the revision', async () => {
    const parent = tmp();
    const cache = join(parent, 'cache');
    const empty = await cli(cache, 'download', 'org/gpt2-tiny', '--revision', '');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^gpt2-lens: revision "" is not valid: it is empty\. A revision is a branch/);
    const dots = await cli(cache, 'download', 'org/gpt2-tiny', '--revision', '..');
    assert.equal(dots.code, 2);
    assert.match(dots.stderr, /^gpt2-lens: revision "\.\." is not valid: "\.\." is not allowed in a revision\./);
    assert.deepEqual(allPaths(parent), []);
  });
});

describe('a refs file that is not a commit hash', () => {
  it('offline: an error naming the refs file and the revision; online: rewritten from the Hub', async () => {
    const cache = tmp();
    await resolveModelFolder('org/gpt2-tiny', opts(cache));
    const ref = join(repoDir(cache), 'refs', 'main');
    writeFileSync(ref, '../../etc');
    await assert.rejects(resolveModelFolder('org/gpt2-tiny', opts(cache, { env: { HF_HUB_OFFLINE: '1' } })), (err: HubError) => {
      assert.equal(err.code, 'CorruptCache');
      assert.equal(err.message, `${ref} (revision "main") holds "../../etc", not a 40-character commit hash: the cache is damaged. Delete that file; the next online run writes it again`);
      return true;
    });
    assert.equal(await resolveModelFolder('org/gpt2-tiny', opts(cache)), join(repoDir(cache), 'snapshots', FAKE_COMMIT));
    assert.equal(readFileSync(ref, 'utf8'), FAKE_COMMIT);
  });
});

describe('downloads are checked against their ETag', () => {
  it('a non-LFS file whose bytes do not match its git-sha1 ETag is refused, its .incomplete deleted', async () => {
    const cache = tmp();
    hub.fail({ file: 'config.json', kind: 'corrupt' });
    await assert.rejects(hfHubDownload('org/gpt2-tiny', 'config.json', opts(cache)), (err: HubError) => {
      assert.equal(err.code, 'ChecksumMismatch');
      assert.match(err.message, new RegExp(`^checksum mismatch for config\\.json: the Hub says git blob sha1 ${CONFIG_ETAG}, the downloaded bytes hash to [0-9a-f]{40}\\. The corrupt download was deleted; run the command again\\.$`));
      return true;
    });
    assert.deepEqual(readdirSync(join(repoDir(cache), 'blobs')), []);
    assert.equal(existsSync(join(repoDir(cache), 'snapshots')), false);
    const ok = await hfHubDownload('org/gpt2-tiny', 'config.json', opts(cache));
    assert.equal(readlinkSync(ok.path), `../../blobs/${CONFIG_ETAG}`);
  });

  it('the fake Hub sends the git blob sha1 of each small file as its ETag (what the check relies on)', async () => {
    const res = await fetch(`${hub.url}/org/gpt2-tiny/resolve/main/config.json`, { method: 'HEAD' });
    assert.equal(res.headers.get('etag'), `"${CONFIG_ETAG}"`);
  });
});

describe('cached files are checked before reuse, and repaired', () => {
  it('a truncated blob (wrong size) is downloaded again whenever the Hub is asked, with a warning saying why', async () => {
    const cache = tmp();
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    truncateSync(join(repoDir(cache), 'blobs', MODEL_SHA), 1000);
    const warnings: string[] = [];
    const gets = hub.requestsFor(MODEL_SHA, 'GET').length;
    await hfHubDownload('org/gpt2-tiny', 'model.safetensors', opts(cache, { onWarning: (m) => warnings.push(m) })); // revision main: a HEAD
    assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, gets + 1);
    assert.deepEqual(warnings, [`model.safetensors in the cache (${join(folder, 'model.safetensors')}) is damaged: it is 1000 bytes, the Hub says ${MODEL_BYTES.byteLength}. Downloading it again.`]);
    assert.equal(sha256Hex(readFileSync(join(folder, 'model.safetensors'))), MODEL_SHA);
  });

  it('verify: a blob of the right size but the wrong bytes (LFS sha256, and git sha1) is downloaded again', async () => {
    const cache = tmp();
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    for (const blob of [MODEL_SHA, CONFIG_ETAG]) {
      const p = join(repoDir(cache), 'blobs', blob);
      const b = readFileSync(p);
      b[10]! ^= 0xff;
      writeFileSync(p, b);
    }
    // without verify only sizes are checked: the damage goes unseen (hashing 550 MB on every load is too slow)
    await resolveModelFolder('org/gpt2-tiny', opts(cache));
    assert.notEqual(sha256Hex(readFileSync(join(folder, 'model.safetensors'))), MODEL_SHA);
    const warnings: string[] = [];
    await resolveModelFolder('org/gpt2-tiny', opts(cache, { verify: true, onWarning: (m) => warnings.push(m) }));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, new RegExp(`^config\\.json in the cache \\(.+\\) is damaged: its git blob sha1 is [0-9a-f]{40}, the Hub says ${CONFIG_ETAG}\\. Downloading it again\\.$`));
    assert.match(warnings[1]!, new RegExp(`^model\\.safetensors in the cache \\(.+\\) is damaged: its sha256 is [0-9a-f]{64}, the Hub says ${MODEL_SHA}\\. Downloading it again\\.$`));
    assert.equal(sha256Hex(readFileSync(join(folder, 'model.safetensors'))), MODEL_SHA);
    assert.equal(gitBlobSha1(readFileSync(join(folder, 'config.json'))), CONFIG_ETAG);
    assert.ok(lstatSync(join(folder, 'model.safetensors')).isSymbolicLink());
  });

  it('force_download downloads every file again, even a commit already cached; offline it is refused', async () => {
    const cache = tmp();
    await resolveModelFolder('org/gpt2-tiny', opts(cache));
    const gets = hub.requests.filter((r) => r.method === 'GET').length;
    await resolveModelFolder('org/gpt2-tiny', opts(cache, { force_download: true, revision: FAKE_COMMIT }));
    assert.equal(hub.requests.filter((r) => r.method === 'GET').length, gets + 7);
    assert.deepEqual(readdirSync(join(repoDir(cache), 'blobs')).filter((b) => b.includes('.')), []);
    await assert.rejects(
      hfHubDownload('org/gpt2-tiny', 'config.json', opts(cache, { force_download: true, env: { HF_HUB_OFFLINE: '1' } })),
      /^HubError: force_download needs the network, but offline mode is on \(HF_HUB_OFFLINE=1\): config\.json of org\/gpt2-tiny cannot be downloaded again$/,
    );
  });

  it('the CLI: `download` repairs a truncated blob (warning on stderr), `download --force` fetches everything again', async () => {
    const cache = tmp();
    assert.equal((await cli(cache, 'download', 'org/gpt2-tiny', '--quiet')).code, 0);
    truncateSync(join(repoDir(cache), 'blobs', MODEL_SHA), 4096);
    const repaired = await cli(cache, 'download', 'org/gpt2-tiny', '--quiet');
    assert.equal(repaired.code, 0);
    assert.match(repaired.stderr, /^gpt2-lens: warning: model\.safetensors in the cache \(.+\) is damaged: it is 4096 bytes, the Hub says 21919480\. Downloading it again\.\n$/);
    assert.equal(sha256Hex(readFileSync(join(repoDir(cache), 'blobs', MODEL_SHA))), MODEL_SHA);
    const gets = hub.requests.filter((r) => r.method === 'GET').length;
    const forced = await cli(cache, 'download', 'org/gpt2-tiny', '--force', '--quiet');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(hub.requests.filter((r) => r.method === 'GET').length, gets + 7);
  });
});

describe('errors no retry can fix stop at once', () => {
  it('ENOSPC (a real one: the .incomplete file is a link to /dev/full) stops after one GET with the path and the bytes needed', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    const cache = tmp();
    const blobs = join(repoDir(cache), 'blobs');
    mkdirSync(blobs, { recursive: true });
    symlinkSync('/dev/full', join(blobs, `${MODEL_SHA}.incomplete`));
    const gets = hub.requestsFor(MODEL_SHA, 'GET').length;
    await assert.rejects(hfHubDownload('org/gpt2-tiny', 'model.safetensors', opts(cache, { retry: { baseDelayMs: 2000, maxDelayMs: 2000 } })), (err: HubError) => {
      assert.equal(err.code, 'NoSpace');
      assert.equal(
        err.message,
        `no space left on device at ${blobs} (needed ${MODEL_BYTES.byteLength} bytes for model.safetensors). Free some space, or point HF_HUB_CACHE at another disk, ` +
          `then run the command again: what was written is kept in ${join(blobs, `${MODEL_SHA}.incomplete`)} and resumed`,
      );
      return true;
    });
    assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, gets + 1, 'no retry');
  });

  for (const chunked of [false, true]) {
    it(`a body longer than announced (${chunked ? 'no Content-Length' : 'a larger Content-Length'}) is an immediate error; nothing is kept`, async () => {
      const cache = tmp();
      hub.fail({ file: 'model.safetensors', kind: 'extra', extraBytes: 5000, chunked });
      const gets = hub.requestsFor(MODEL_SHA, 'GET').length;
      await assert.rejects(hfHubDownload('org/gpt2-tiny', 'model.safetensors', opts(cache, { retry: { baseDelayMs: 2000, maxDelayMs: 2000 } })), (err: HubError) => {
        assert.equal(err.code, 'BadResponse');
        assert.match(err.message, new RegExp(`^the server sent more bytes for model\\.safetensors than the ${MODEL_BYTES.byteLength} the Hub announced \\(X-Linked-Size / Content-Length\\): at least \\d+\\. The download was deleted\\.`));
        return true;
      });
      assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, gets + 1, 'no retry');
      assert.deepEqual(readdirSync(join(repoDir(cache), 'blobs')), []);
    });
  }

  it('a cache that cannot be written (its parent is a regular file: ENOTDIR, which stops root too) says so and where', async () => {
    const parent = tmp();
    writeFileSync(join(parent, 'afile'), '');
    const cache = join(parent, 'afile', 'hub');
    await assert.rejects(hfHubDownload('org/gpt2-tiny', 'config.json', opts(cache)), (err: HubError) => {
      assert.equal(err.code, 'CacheNotWritable');
      assert.match(
        err.message,
        new RegExp(`^the Hugging Face cache at ${cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable: mkdir ${parent.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/afile/hub\\S* failed with ENOTDIR \\(a part of the path is a file, not a folder\\)\\. Make it writable, or point HF_HUB_CACHE`),
      );
      return true;
    });
  });

  it('a read-only cache folder (chmod 555; skipped as root, whom chmod does not stop) says so and where', { skip: process.getuid?.() === 0 && 'running as root' }, async () => {
    const { chmodSync } = await import('node:fs');
    const cache = tmp();
    chmodSync(cache, 0o555);
    try {
      await assert.rejects(hfHubDownload('org/gpt2-tiny', 'config.json', opts(cache)), (err: HubError) => err.code === 'CacheNotWritable' && /failed with EACCES \(permission denied\)/.test(err.message));
    } finally {
      chmodSync(cache, 0o755);
    }
  });
});

describe('cache ls with odd entries', () => {
  it('lists what it can and warns about the rest, on stderr', async () => {
    const cache = tmp();
    await resolveModelFolder('org/gpt2-tiny', opts(cache));
    const repo = repoDir(cache);
    symlinkSync(join(repo, 'snapshots'), join(repo, 'refs', 'dir-link')); // a link to a folder in refs/
    symlinkSync('loop', join(repo, 'refs', 'loop')); // a link to itself
    writeFileSync(join(repo, 'refs', 'bad'), '../../etc');
    writeFileSync(join(repo, 'snapshots', 'stray.txt'), 'x'); // a file where snapshot folders belong
    mkdirSync(join(cache, 'models--org--other'));
    writeFileSync(join(cache, 'models--org--other', 'refs'), 'not a folder');
    const warnings: string[] = [];
    const repos = scanCache(cache, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(
      repos.map((r) => [r.repoId, Object.keys(r.refs), r.snapshots.map((s) => s.commit)]),
      [
        ['org/gpt2-tiny', ['main'], [FAKE_COMMIT]],
        ['org/other', [], []],
      ],
    );
    assert.deepEqual(warnings.sort(), [
      `org/gpt2-tiny: ${join(repo, 'refs', 'dir-link')} is a link to a folder; skipped`,
      `org/gpt2-tiny: ${join(repo, 'refs', 'loop')} is a symbolic link loop; skipped`,
      `org/gpt2-tiny: ${join(repo, 'snapshots', 'stray.txt')} is not a snapshot folder; skipped`,
      'org/gpt2-tiny: refs/bad holds "../../etc", not a commit hash; skipped',
      `org/other: ${join(cache, 'models--org--other', 'refs')} is not a folder; refs skipped`,
    ]);
    const r = await cli(cache, 'cache', 'ls');
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^REPO ID +SIZE ON DISK +FILES +REFS +SNAPSHOTS\\norg/gpt2-tiny +23\\.4 MB +7 +main +${FAKE_COMMIT.slice(0, 8)}\\norg/other +0 B +0 +- +-\\n`));
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('gpt2-lens: warning: ')).length, 5);
  });
});

describe('download of a local path', () => {
  it('`download .` and `download ./folder` say it is a local folder, not a Hub id (exit 2)', async () => {
    const cache = tmp();
    const dot = await cli(cache, 'download', '.');
    assert.deepEqual(dot, { code: 2, stdout: '', stderr: 'gpt2-lens: . is a local folder, not a Hub repo id: there is nothing to download. Pass a folder to the other commands as --model .\n' });
    const missing = await cli(cache, 'download', './no-such-folder');
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'gpt2-lens: ./no-such-folder is a local path (which does not exist), not a Hub repo id: there is nothing to download. Pass a folder to the other commands as --model ./no-such-folder\n');
    assert.deepEqual(readdirSync(cache), []);
  });
});
