// Tokens and the Hub's refusals: Bearer tokens from the option, HF_TOKEN or the token file; never sent to
// another host; 401/403/404 turned into messages that say what to do; a repo without safetensors.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getToken, hfHubDownload, HubError, resolveModelFolder } from '../src/node/hub/index.js';
import { FakeHub, gpt2TinyRepo, type FakeRepo } from './helpers/hub-server.js';
import { tempDirs } from './helpers/temp.js';

const tmp = tempDirs('gpt2-lens-hub-auth-');

function gated(): FakeRepo {
  return { ...gpt2TinyRepo(), gated: true, acceptedToken: 'hf_good' };
}

function binOnly(): FakeRepo {
  const files = { ...gpt2TinyRepo().files };
  delete files['model.safetensors'];
  files['pytorch_model.bin'] = new Uint8Array(1000).fill(7);
  return { files, lfs: ['pytorch_model.bin'] };
}

function noTokenizer(): FakeRepo {
  const files = { ...gpt2TinyRepo().files };
  delete files['vocab.json'];
  delete files['merges.txt'];
  return { files, lfs: ['model.safetensors'] };
}

describe('tokens', () => {
  let hub: FakeHub;
  let cdnHub: FakeHub;
  before(async () => {
    hub = await new FakeHub({ repos: { 'org/gpt2-tiny': gated() } }).start();
    cdnHub = await new FakeHub({ repos: { 'org/gpt2-tiny': gated() }, separateCdn: true }).start();
  });
  after(async () => {
    await hub.stop();
    await cdnHub.stop();
  });

  it('the token option is sent as a Bearer token to the Hub, and not to a CDN on another host', async () => {
    await resolveModelFolder('org/gpt2-tiny', { endpoint: cdnHub.url, cache_dir: tmp(), env: {}, token: 'hf_good' });
    const hubRequests = cdnHub.requests.filter((r) => r.path.includes('/resolve/'));
    assert.ok(hubRequests.length >= 10);
    for (const r of hubRequests) assert.equal(r.authorization, 'Bearer hf_good', `${r.method} ${r.path}`);
    const cdn = cdnHub.requests.filter((r) => r.path.startsWith('/cdn/'));
    assert.equal(cdn.length, 1);
    assert.notEqual(cdn[0]!.host, new URL(cdnHub.url).host);
    assert.equal(cdn[0]!.authorization, undefined);
  });

  it('a CDN path on the same host keeps the token (same host, as huggingface_hub does)', async () => {
    await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: tmp(), env: {}, token: 'hf_good' });
    const cdn = hub.requests.filter((r) => r.path.startsWith('/cdn/'));
    assert.equal(cdn[0]!.authorization, 'Bearer hf_good');
  });

  it('HF_TOKEN, else the file at HF_TOKEN_PATH, else $HF_HOME/token; HF_TOKEN wins over the file', async () => {
    const home = tmp();
    writeFileSync(join(home, 'token'), 'hf_from_home_file\n');
    const tokenFile = join(tmp(), 'my-token');
    writeFileSync(tokenFile, '  hf_from_token_path  \n');
    assert.equal(getToken({ HF_HOME: home }), 'hf_from_home_file');
    assert.equal(getToken({ HF_HOME: home, HF_TOKEN_PATH: tokenFile }), 'hf_from_token_path');
    assert.equal(getToken({ HF_HOME: home, HF_TOKEN_PATH: tokenFile, HF_TOKEN: 'hf_env' }), 'hf_env');
    assert.equal(getToken({ HF_HOME: home, HF_TOKEN: 'hf_env', HF_HUB_DISABLE_IMPLICIT_TOKEN: '1' }), undefined);
    assert.equal(getToken({ HF_HOME: tmp() }), undefined);

    const before = hub.requests.length;
    await hfHubDownload('org/gpt2-tiny', 'config.json', { endpoint: hub.url, cache_dir: tmp(), env: { HF_TOKEN: 'hf_good' } });
    writeFileSync(join(home, 'token'), 'hf_good');
    await hfHubDownload('org/gpt2-tiny', 'config.json', { endpoint: hub.url, cache_dir: tmp(), env: { HF_HOME: home } });
    assert.deepEqual(
      hub.requests.slice(before).map((r) => r.authorization),
      ['Bearer hf_good', 'Bearer hf_good', 'Bearer hf_good', 'Bearer hf_good'],
    );
  });

  it('gated repo without a token: 401, says so and mentions HF_TOKEN', async () => {
    await assert.rejects(resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: tmp(), env: {} }), (err: HubError) => {
      assert.equal(err.code, 'GatedRepo');
      assert.equal(err.status, 401);
      assert.equal(
        err.message,
        `org/gpt2-tiny is a gated repo (HTTP 401): accept its conditions at ${hub.url}/org/gpt2-tiny while logged in. ` +
          'No token was sent: set HF_TOKEN (or run `huggingface-cli login`) to a token of an account that has access.',
      );
      return true;
    });
  });

  it('gated repo with a token that has no access: 403, names where the token came from', async () => {
    await assert.rejects(resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: tmp(), env: { HF_TOKEN: 'hf_bad' } }), (err: HubError) => {
      assert.equal(err.status, 403);
      assert.match(err.message, /^org\/gpt2-tiny is a gated repo \(HTTP 403\): .* The token from HF_TOKEN was sent; check that its account has access to this repo\.$/);
      return true;
    });
  });
});

describe('wrong ids, missing files, no safetensors', () => {
  let hub: FakeHub;
  before(async () => {
    hub = await new FakeHub({ repos: { 'org/gpt2-tiny': gpt2TinyRepo(), 'org/bin-only': binOnly(), 'org/no-tokenizer': noTokenizer() } }).start();
  });
  after(() => hub.stop());

  it('an unknown repo: 401 without a token (as the Hub answers), 404 with one; both say to check the id', async () => {
    await assert.rejects(resolveModelFolder('org/no-such-model', { endpoint: hub.url, cache_dir: tmp(), env: {} }), (err: HubError) => {
      assert.equal(err.code, 'RepoNotFound');
      assert.equal(
        err.message,
        `repository org/no-such-model was not found on ${hub.url} (HTTP 401): check the id (e.g. "openai-community/gpt2"). ` +
          'If it is private or gated, you need access. No token was sent: set HF_TOKEN (or run `huggingface-cli login`) to a token of an account that has access.',
      );
      return true;
    });
    await assert.rejects(
      resolveModelFolder('org/no-such-model', { endpoint: hub.url, cache_dir: tmp(), env: {}, token: 'hf_x' }),
      /^HubError: repository org\/no-such-model was not found on .* \(HTTP 404\): check the id .* The token from the token option was sent/,
    );
  });

  it('a missing file: 404 EntryNotFound names the file, the repo and the revision', async () => {
    await assert.rejects(
      hfHubDownload('org/gpt2-tiny', 'nope.json', { endpoint: hub.url, cache_dir: tmp(), env: {} }),
      (err: HubError) => err.code === 'EntryNotFound' && err.message === 'nope.json does not exist in org/gpt2-tiny at revision "main" (HTTP 404)',
    );
  });

  it('a repo with only pytorch_model.bin: says safetensors is needed, without downloading the .bin', async () => {
    await assert.rejects(resolveModelFolder('org/bin-only', { endpoint: hub.url, cache_dir: tmp(), env: {} }), (err: HubError) => {
      assert.equal(err.code, 'SafetensorsRequired');
      assert.match(err.message, /^org\/bin-only has only PyTorch weights \(pytorch_model\.bin\); gpt2-lens reads safetensors \(model\.safetensors\)\./);
      return true;
    });
    assert.deepEqual(hub.requestsFor('pytorch_model.bin').map((r) => r.method), ['HEAD']);
    assert.deepEqual(hub.requests.filter((r) => r.path.startsWith('/cdn/')), []);
  });

  it('a repo without tokenizer files', async () => {
    await assert.rejects(
      resolveModelFolder('org/no-tokenizer', { endpoint: hub.url, cache_dir: tmp(), env: {} }),
      /^HubError: org\/no-tokenizer \(revision "main"\) has no tokenizer \(vocab\.json \+ merges\.txt, or tokenizer\.json\)$/,
    );
  });

  it('not a repo id and not a folder', async () => {
    await assert.rejects(resolveModelFolder('org/a/b', { cache_dir: tmp(), env: {} }), /"org\/a\/b" is not a Hugging Face repo id/);
    await assert.rejects(resolveModelFolder('org--x/y', { cache_dir: tmp(), env: {} }), /not a Hugging Face repo id/);
    await assert.rejects(resolveModelFolder('./no/such/folder', { cache_dir: tmp(), env: {} }), /^Error: model folder \.\/no\/such\/folder does not exist$/);
  });

  it('a local folder is returned as is, without touching the cache', async () => {
    const folder = tmp();
    mkdirSync(join(folder, 'x'));
    assert.equal(await resolveModelFolder(folder, { cache_dir: '/nonexistent-cache', env: {} }), folder);
  });
});
