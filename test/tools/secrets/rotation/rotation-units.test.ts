import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  alternateRole,
  baseRole,
  nextCredentialValue,
  parseDbCredential,
} from '../../../../src/tools/secrets/rotation/credential-value.js';
import { scramVerifier } from '../../../../src/tools/secrets/rotation/pg-roles.js';
import { secretUsesOf } from '../../../../src/tools/secrets/rotation/secret-references.js';
import { requestTokenFor } from '../../../../src/tools/secrets/rotation/run-rotation.js';
import { rotateCredentialsPrompt } from '../../../../src/prompts/rotate-credentials.js';
import { buildCatalog } from '../../../../src/catalog/build-catalog.js';
import { parseCatalogText } from '../../../../src/catalog/parse-catalog.js';
import { component } from '../../../catalog/fixtures.js';

describe('credential values', () => {
  it('parses a PostgreSQL credential and refuses anything else', () => {
    const c = parseDbCredential(
      '{"engine":"postgres","username":"app","password":"pw-123456","host":"db","port":5433,"dbname":"orders"}',
    );
    expect(c).toMatchObject({ username: 'app', host: 'db', port: 5433, dbname: 'orders' });
    expect(parseDbCredential('plain-api-key')).toBeUndefined();
    expect(parseDbCredential('{"engine":"mysql","username":"a","password":"b"}')).toBeUndefined();
    expect(parseDbCredential('{"username":"a"}')).toBeUndefined();
  });

  it('alternates <role> and <role>_clone and keeps unknown members in the new version', () => {
    expect(alternateRole('app')).toBe('app_clone');
    expect(alternateRole('app_clone')).toBe('app');
    expect(baseRole('app_clone')).toBe('app');
    const c = parseDbCredential(
      '{"username":"app","password":"old-secret","dbname":"d","sslmode":"require"}',
    )!;
    expect(JSON.parse(nextCredentialValue(c, 'app_clone', 'new-secret'))).toEqual({
      username: 'app_clone',
      password: 'new-secret',
      dbname: 'd',
      sslmode: 'require',
    });
  });
});

describe('scramVerifier', () => {
  it('produces PostgreSQL SCRAM-SHA-256 verifiers whose keys derive from the password', () => {
    const v = scramVerifier('correct horse');
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(v)!;
    expect(m).not.toBeNull();
    const salted = pbkdf2Sync('correct horse', Buffer.from(m[1]!, 'base64'), 4096, 32, 'sha256');
    const stored = createHash('sha256')
      .update(createHmac('sha256', salted).update('Client Key').digest())
      .digest('base64');
    expect(m[2]).toBe(stored);
    expect(v).not.toContain('correct horse');
    expect(scramVerifier('correct horse')).not.toBe(v);
  });
});

describe('secretUsesOf', () => {
  it('finds secretKeyRef, envFrom and volume references, containers and init containers', () => {
    const uses = secretUsesOf({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'shop' },
      spec: {
        template: {
          spec: {
            initContainers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'migrate-db' } } }] }],
            containers: [
              {
                env: [{ name: 'X', value: 'y' }, { valueFrom: { secretKeyRef: { name: 'db' } } }],
                envFrom: [{ secretRef: { name: 'env' } }, { configMapRef: { name: 'cm' } }],
              },
            ],
            volumes: [
              { secret: { secretName: 'tls' } },
              { projected: { sources: [{ secret: { name: 'proj' } }] } },
              { configMap: { name: 'cm' } },
            ],
          },
        },
      },
    });
    expect(uses.map((u) => `${u.secret}:${u.via}`).sort()).toEqual([
      'db:secretKeyRef',
      'env:envFrom',
      'migrate-db:secretKeyRef',
      'proj:volume',
      'tls:volume',
    ]);
    expect(uses.every((u) => u.namespace === 'shop' && u.deployment === 'api')).toBe(true);
  });
});

describe('requestTokenFor', () => {
  it('is a stable UUID per action digest', () => {
    const a = requestTokenFor('a'.repeat(64));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestTokenFor('a'.repeat(64))).toBe(a);
    expect(requestTokenFor('b'.repeat(64))).not.toBe(a);
  });
});

describe('rotate-credentials prompt', () => {
  it('walks inventory → plan → approval → execution → verification', () => {
    const catalog = buildCatalog(
      parseCatalogText(component('payment-service', { owner: 'payments-team' }), 'catalog-info.yaml')
        .entities,
    );
    const [m] = rotateCredentialsPrompt.messages({ env: 'prod', service: 'PAYMENT-SERVICE' }, { catalog });
    const text = m!.text;
    for (const word of [
      'list_credentials',
      'rotate_credential',
      'day2 approve',
      'approval_id',
      'get_rotation',
    ])
      expect(text).toContain(word);
    expect(text.indexOf('list_credentials')).toBeLessThan(text.indexOf('approval_id'));
    expect(text).toContain('"service":"payment-service"');
  });
});
