import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { serve, type ServeHandle } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/cli/serve-command.js';
import { silentLogger } from '../../src/core/log.js';
import { allTools } from '../../src/tools/index.js';
import { ALWAYS_ON_TOOLSETS, DEFAULT_TOOLSETS, servedToolsets, TOOLSETS } from '../../src/core/toolsets.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { makeTestTools } from '../fixtures/test-tools.js';

const namesIn = (toolsets: readonly string[]) =>
  allTools
    .filter((t) => toolsets.includes(t.toolset) || ALWAYS_ON_TOOLSETS.includes(t.toolset))
    .map((t) => t.name)
    .sort();

describe('day2 serve toolsets', () => {
  let t: TestEnv | undefined;
  let h: ServeHandle | undefined;
  let client: Client | undefined;
  async function stop() {
    await client?.close();
    await h?.close();
    t?.cleanup();
    client = h = t = undefined;
  }
  afterEach(stop);

  /** `day2 serve <args>` in this process (over HTTP, so that a client can connect), its tool names. */
  async function listed(args: string[], config: Record<string, unknown> = {}): Promise<string[]> {
    t = makeTestEnv(config);
    h = await serve({
      ...parseServeArgs(['--config', t.configPath, '--http', '--port', '0', ...args]),
      signals: false,
      log: silentLogger,
      env: { ...t.env, DAY2_PRINCIPAL: 'agent-toolsets' },
      extraTools: makeTestTools(t.backendFile),
    });
    client = new Client({ name: 'toolsets-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(h.url!)));
    return (await client.listTools()).tools.map((x) => x.name).sort();
  }

  it('serves the default toolsets when neither --toolsets nor day2.yaml chooses', async () => {
    const names = await listed([]);
    expect(names).toEqual(namesIn(DEFAULT_TOOLSETS));
    expect(names).toContain('triage_service');
    expect(names).not.toContain('rotate_credential');
    // The model learns what is off and who can turn it on.
    expect(client!.getInstructions()).toContain(
      'serves the toolsets context, incidents, approvals; secrets, deploys, database, access, cost are off',
    );
  });

  it('serves every tool with --toolsets all, and what day2.yaml names otherwise', async () => {
    const all = await listed(['--toolsets', 'all'], { toolsets: ['deploys'] });
    expect(all).toEqual([...allTools.map((x) => x.name), 'test_slow', 'test_write'].sort());
    expect(client!.getInstructions()).not.toContain('are off');
    await stop();
    expect(await listed([], { toolsets: ['deploys'] })).toEqual(namesIn(['deploys']));
    await stop();
    // The command line wins over day2.yaml.
    expect(await listed(['--toolsets', 'secrets'], { toolsets: ['deploys'] })).toEqual(namesIn(['secrets']));
  });

  it('refuses an unknown toolset as a usage error that names the valid ones', () => {
    expect(() => parseServeArgs(['--toolsets', 'context,deploy'])).toThrow(
      /unknown toolset "deploy"; valid: context, approvals, incidents, secrets, deploys, database, access, cost, all/,
    );
    expect(() => parseServeArgs(['--toolsets', ','])).toThrow(/name at least one/);
    expect(parseServeArgs(['--toolsets', ' deploys , database ']).toolsets).toEqual(['deploys', 'database']);
  });

  it('resolves the served toolsets: requested, else the defaults; all means every tool', () => {
    expect(servedToolsets(undefined)).toEqual(DEFAULT_TOOLSETS);
    expect(servedToolsets(['deploys'])).toEqual(['deploys']);
    expect(servedToolsets(['deploys', 'all'])).toBeUndefined();
    for (const name of DEFAULT_TOOLSETS) expect(TOOLSETS).toContain(name);
  });
});
