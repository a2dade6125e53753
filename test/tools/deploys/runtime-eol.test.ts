import { describe, expect, it } from 'vitest';
import { runtimeStatus } from '../../../src/tools/deploys/runtime-eol.js';

describe('runtimeStatus', () => {
  const now = new Date('2026-01-15T00:00:00Z');
  it('reads the runtime and its version line from the image', () => {
    expect(runtimeStatus('library/node', '18.20.1-alpine', now)).toEqual({
      runtime: 'node',
      line: '18',
      eol: '2025-04-30',
      status: 'end_of_life',
    });
    expect(runtimeStatus('python', '3.12-slim', now)).toMatchObject({ line: '3.12', status: 'supported' });
    expect(runtimeStatus('golang', '1.24.2', now)).toMatchObject({
      line: '1.24',
      status: 'eol_within_6_months',
    });
    expect(runtimeStatus('postgres', '13', now)).toMatchObject({ status: 'end_of_life' });
  });
  it('ignores other images and unknown lines, and lets the config override the table', () => {
    expect(runtimeStatus('shop/orders', '6.1.2', now)).toBeUndefined();
    expect(runtimeStatus('node', 'latest', now)).toBeUndefined();
    expect(runtimeStatus('node', '99', now)).toBeUndefined();
    expect(runtimeStatus('node', '20', now, { node: { '20': '2025-12-31' } })).toMatchObject({
      eol: '2025-12-31',
      status: 'end_of_life',
    });
    expect(runtimeStatus('erlang', '26', now, { erlang: { '26': '2030-01-01' } })).toMatchObject({
      runtime: 'erlang',
      status: 'supported',
    });
  });
});
