import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleServe } from '../../src/cli/bundle-entry.js';
import { REPO } from '../fixtures/test-env.js';

/**
 * day2 the way MCP users run it: `npm start` in a clone, and the npm package installed into an
 * empty folder and started with `npx day2 serve --sandbox`, each spawned by the SDK's stdio client
 * transport. Every line the server's stdout carries must be JSON-RPC: the transport reports any
 * other line (npm's `> day2@0.1.0 start` banner, say) through `onerror`.
 */

const work = mkdtempSync(join(tmpdir(), 'day2-install-test-'));
const app = join(work, 'app');
const home = join(work, 'home');
let tarball: string;

/** The environment an MCP host gives a server: none of npm's own variables, Node 22+ first on PATH. */
function hostEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  env.PATH = [dirname(process.execPath), env.PATH ?? ''].join(delimiter);
  env.HOME = home;
  env.DAY2_PRINCIPAL = 'install-test@example.com';
  env.DAY2_LOG_LEVEL = 'warn';
  return { ...env, ...extra };
}

/** For npm's own installs: the user's home, so its cache and settings (.npmrc) apply. */
const npmEnv = () => ({ ...hostEnv(), HOME: homedir() });

/**
 * Spawns `command` as an MCP host would, initializes, lists tools and, given `call`, calls it (a
 * call that needs the backends: the sandbox started from the installed package); returns what was
 * seen.
 */
async function session(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  call?: { name: string; arguments: Record<string, unknown> },
) {
  const transport = new StdioClientTransport({ command, args, cwd, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const client = new Client({ name: 'install-test', version: '1.0.0' });
  const protocolErrors: string[] = [];
  client.onerror = (e) => protocolErrors.push(e.message);
  try {
    await client.connect(transport, { timeout: 60_000 });
    const server = client.getServerVersion();
    const tools = (await client.listTools(undefined, { timeout: 60_000 })).tools.map((t) => t.name);
    const answer = call
      ? ((await client.callTool(call, undefined, { timeout: 120_000 })) as CallToolResult)
      : undefined;
    return { server, tools, answer, protocolErrors, stderr: () => stderr };
  } finally {
    await client.close();
  }
}

beforeAll(() => {
  mkdirSync(app);
  mkdirSync(home);
  // npm pack runs `prepare` (tsc): the package holds a fresh dist/.
  execFileSync('npm', ['pack', '--loglevel=warn', '--pack-destination', work], {
    cwd: REPO,
    env: npmEnv(),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  );
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('npm start', () => {
  it('writes nothing but JSON-RPC on stdout', async () => {
    const s = await session('npm', ['start'], REPO, hostEnv());
    expect(s.server?.name).toBe('day2');
    expect(s.tools).toContain('triage_service');
    expect(s.protocolErrors).toEqual([]);
  }, 120_000);

  it("an npm log level in the environment overrides the project's .npmrc, and its banner is caught (README says so)", async () => {
    const s = await session('npm', ['start'], REPO, hostEnv({ npm_config_loglevel: 'notice' }));
    expect(s.tools).toContain('triage_service');
    expect(s.protocolErrors.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('the npm package installed into an empty folder', () => {
  beforeAll(() => {
    execFileSync('npm', ['init', '-y', '--loglevel=warn'], { cwd: app, env: npmEnv(), stdio: 'ignore' });
    execFileSync('npm', ['install', '--loglevel=warn', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      env: npmEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }, 600_000);

  it('carries what it needs at run time: dist, the fleet, no sources or tests', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/dist/src/cli/main.js');
    expect(files).toContain('package/dist/src/cli/bundle-entry.js');
    expect(files).toContain('package/src/sandbox/fleet/demo.yaml');
    expect(files.some((f) => f.startsWith('package/src/sandbox/fleet/catalog/'))).toBe(true);
    expect(files.some((f) => f.startsWith('package/test/'))).toBe(false);
    expect(
      files.some((f) => f.startsWith('package/src/') && !f.startsWith('package/src/sandbox/fleet/')),
    ).toBe(false);
  });

  it('answers initialize with `npx day2 serve --sandbox`, whatever npm log level the environment sets', async () => {
    for (const extra of [{}, { npm_config_loglevel: 'info' }] as Record<string, string>[]) {
      // The first run also asks the installed sandbox something: its fleet, its emulators and
      // their kubeconfigs must all be found under node_modules.
      const ask = Object.keys(extra).length === 0;
      const s = await session(
        'npx',
        ['day2', 'serve', '--sandbox'],
        app,
        hostEnv(extra),
        ask ? { name: 'list_deployments', arguments: {} } : undefined,
      );
      expect(s.server?.name, s.stderr()).toBe('day2');
      expect(s.tools).toContain('get_service');
      expect(s.protocolErrors, JSON.stringify(extra)).toEqual([]);
      if (ask) {
        const text = (s.answer!.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
        expect(s.answer!.isError, `${text}\n${s.stderr()}`).toBeFalsy();
        expect((s.answer!.structuredContent as { total: number }).total).toBeGreaterThan(0);
      }
    }
  }, 240_000);

  it("starts the bundle's entry as Claude Desktop would, with the install dialog's settings", async () => {
    const entry = join(app, 'node_modules', 'day2', 'dist', 'src', 'cli', 'bundle-entry.js');
    const s = await session(
      process.execPath,
      [entry],
      app,
      hostEnv({
        DAY2_CONFIG_FILE: '',
        DAY2_TOOLSETS: 'context,secrets',
        DAY2_SANDBOX_STORE: join(home, '.day2', 'day2.db'),
      }),
    );
    expect(s.tools).toContain('list_credentials');
    expect(s.tools).not.toContain('triage_service');
    expect(s.protocolErrors).toEqual([]);
    expect(readdirSync(join(home, '.day2'))).toContain('day2.db');
  }, 120_000);
});

describe('the MCP Bundle manifest', () => {
  const manifestPath = join(REPO, 'mcpb', 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    version: string;
    server: { entry_point: string; mcp_config: { args: string[]; env: Record<string, string> } };
    user_config: Record<string, { type: string; required?: boolean; default?: unknown }>;
  };

  it('passes `mcpb validate`', () => {
    const out = execFileSync(join(REPO, 'node_modules', '.bin', 'mcpb'), ['validate', manifestPath], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/validation passes/i);
  });

  it('asks for the principal, the configuration file and the toolsets, and passes each to the server', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.user_config.principal).toMatchObject({ type: 'string', required: true });
    expect(manifest.user_config.config_file).toMatchObject({ type: 'file', default: '' });
    expect(manifest.user_config.toolsets).toMatchObject({ type: 'string', default: '' });
    expect(manifest.server.mcp_config.env).toMatchObject({
      DAY2_PRINCIPAL: '${user_config.principal}',
      DAY2_CONFIG_FILE: '${user_config.config_file}',
      DAY2_TOOLSETS: '${user_config.toolsets}',
    });
    expect(manifest.server.entry_point).toBe('server/dist/src/cli/bundle-entry.js');
    expect(manifest.server.mcp_config.args).toEqual(['${__dirname}/server/dist/src/cli/bundle-entry.js']);
  });

  it('a blank configuration file serves the sandbox; a named one serves it', () => {
    expect(
      bundleServe({ DAY2_CONFIG_FILE: '', DAY2_TOOLSETS: '', DAY2_SANDBOX_STORE: '/h/.day2/day2.db' }),
    ).toEqual({ args: ['serve', '--sandbox'], store: '/h/.day2/day2.db' });
    expect(
      bundleServe({ DAY2_CONFIG_FILE: '/etc/day2.yaml', DAY2_TOOLSETS: 'all', DAY2_SANDBOX_STORE: '/s' }),
    ).toEqual({
      args: ['serve', '--config', '/etc/day2.yaml', '--toolsets', 'all'],
    });
    expect(bundleServe({ DAY2_STORE: '/mine.db', DAY2_SANDBOX_STORE: '/s' })).toEqual({
      args: ['serve', '--sandbox'],
    });
  });
});
