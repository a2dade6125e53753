import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../fixtures/run-cli.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';

function captureIo(t: TestEnv): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { stdout, stderr, stdin: new PassThrough(), env: t.env, cwd: t.dir, out: () => o, err: () => e };
}

describe('day2 command', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv();
  });
  afterAll(() => t?.cleanup());

  it('config check names every bad field with its path and exits 1', async () => {
    const bad = join(t.dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'environments:',
        '  prod:',
        '    tier: prodution',
        '    alertmanager: { url: not-a-url }',
        '  Bad_Name: { tier: staging }',
        'http:',
        '  port: "eighty"',
        'surprise: 1',
        'toolsets: [context, deploy]',
      ].join('\n'),
    );
    const r = await runCli(['config', 'check', '--config', bad], t.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'environments.prod.tier: expected one of "production", "staging", "development"',
    );
    expect(r.stderr).toContain('environments.prod.alertmanager.url');
    expect(r.stderr).toContain('environments.Bad_Name');
    expect(r.stderr).toContain('http.port: expected number');
    expect(r.stderr).toContain('unknown field "surprise"');
    expect(r.stderr).toMatch(/toolsets\[1\]: expected one of "context", .*"all"/);
  });

  it('config check reports a valid file with a summary and exits 0', async () => {
    const io = captureIo(t);
    expect(await main(['config', 'check', '--config', t.configPath], io)).toBe(0);
    expect(io.out()).toMatch(
      /valid; environments: prod \(production\), staging \(staging\).*policy e2e-1: \d+ rules/,
    );
  });

  it('config check validates http.oauth and names it in the summary', async () => {
    const check = (name: string, http: string[]) => {
      const file = join(t.dir, `${name}.yaml`);
      writeFileSync(file, ['environments: { prod: { tier: production } }', 'http:', ...http].join('\n'));
      return runCli(['config', 'check', '--config', file], t.env);
    };
    const r = await check('oauth-bad', [
      '  oauth:',
      '    issuer: http://auth.example.com/realms/ops?x=1',
      '    jwks_uri: not-a-url',
      '    principal_claim: ""',
      '    scopes: { read: "day2 read", write: day2:write, approve: day2:write }',
      '    clock_skew: soon',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('http.oauth.jwks_uri');
    expect(r.stderr).toContain('http.oauth.principal_claim');
    expect(r.stderr).toContain('http.oauth.scopes.read: a scope token');
    expect(r.stderr).toContain('http.oauth.clock_skew');

    const r2 = await check('oauth-issuer', [
      '  oauth: { issuer: "http://auth.example.com/realms/ops?x=1", scopes: { approve: day2:write } }',
    ]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('http.oauth.issuer: an issuer has no query or fragment');
    expect(r2.stderr).toContain('http.oauth.issuer: use https');
    expect(r2.stderr).toContain('http.oauth.scopes: the three scope names must differ');

    const r3 = await check('oauth-host', [
      '  host: 0.0.0.0',
      '  oauth: { issuer: https://auth.example.com }',
    ]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain('http.oauth.resource: http.host 0.0.0.0 is not loopback');

    const r4 = await check('oauth-good', [
      '  host: 0.0.0.0',
      '  oauth: { issuer: https://auth.example.com, resource: https://day2.example.com/mcp, clock_skew: 10s }',
    ]);
    expect(r4.stderr).not.toContain('problem');
    expect(r4.code).toBe(0);
    expect(r4.stdout).toContain(
      'http oauth: tokens from https://auth.example.com (keys from its metadata), principal claim sub, scopes day2:read day2:write day2:approve',
    );
  });

  it('config check warns when a database URL logs in as a superuser', async () => {
    const pgUrl = process.env.DAY2_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const file = join(t.dir, 'superuser.yaml');
    writeFileSync(
      file,
      `environments:\n  prod:\n    tier: production\n    databases:\n      main: { url: "${pgUrl}" }\n`,
    );
    const io = captureIo(t);
    expect(await main(['config', 'check', '--config', file], io)).toBe(0);
    expect(io.err()).toMatch(
      /warning: environments\.prod\.databases\.main: the URL logs in as a superuser; set explain_role/,
    );
  });

  it('prints help for each command and exits 2 on wrong usage', async () => {
    for (const cmd of [
      ['serve'],
      ['approve'],
      ['deny'],
      ['approvals'],
      ['audit', 'verify'],
      ['audit', 'tail'],
      ['audit', 'export'],
      ['config', 'check'],
    ]) {
      const io = captureIo(t);
      expect(await main([...cmd, '--help'], io)).toBe(0);
      expect(io.out()).toContain(`Usage: day2 ${cmd.join(' ')}`);
    }
    const io = captureIo(t);
    expect(await main(['serve', '--port', '80'], io)).toBe(2);
    expect(io.err()).toContain('--host and --port need --http');
    const unknown = captureIo(t);
    expect(await main(['serve', '--toolsets', 'incident'], unknown)).toBe(2);
    expect(unknown.err()).toMatch(/unknown toolset "incident"; valid: context, .*incidents.*, all/);
    expect(await main(['frobnicate'], captureIo(t))).toBe(2);
    expect(await main(['audit'], captureIo(t))).toBe(2);
    expect(await main(['audit', 'tail', '--bogus'], captureIo(t))).toBe(2);
    expect(await main(['audit', 'export', '--since', 'yesterday-ish'], captureIo(t))).toBe(2);
  });

  it('approve and deny refuse unknown ids with exit 1, and deny makes a token unusable', async () => {
    const io = captureIo(t);
    expect(await main(['approve', 'apr_00', '--yes', '--config', t.configPath], io)).toBe(1);
    expect(io.err()).toMatch(/no approval request with id apr_00/);
    const io2 = captureIo(t);
    expect(await main(['deny', 'apr_00', '--config', t.configPath], io2)).toBe(1);
    const io3 = captureIo(t);
    expect(await main(['approvals', '--config', t.configPath], io3)).toBe(0);
    expect(io3.out()).toContain('No pending approvals.');
  });
});
