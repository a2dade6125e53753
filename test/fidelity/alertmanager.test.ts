import { existsSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAlertmanagerProvider,
  type AlertmanagerProvider,
} from '../../src/providers/alertmanager/index.js';
import { startAlertmanager, type AlertmanagerProcess } from '../fixtures/alertmanager.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fidelityDir = process.env.DAY2_FIDELITY_DIR ?? join(repo, '../shared/fidelity');
const specPath = join(fidelityDir, 'alertmanager/openapi.yaml');
const present = existsSync(specPath);

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule.default;

interface Exchange {
  method: string;
  path: string;
  request: unknown;
  status: number;
  response: unknown;
}

/** A loopback pass-through that records what day2 sends to Alertmanager and what comes back. */
async function startRecorder(
  target: string,
): Promise<{ url: string; exchanges: Exchange[]; server: Server }> {
  const exchanges: Exchange[] = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          const back: Buffer[] = [];
          up.on('data', (c: Buffer) => back.push(c));
          up.on('end', () => {
            const text = Buffer.concat(back).toString('utf8');
            exchanges.push({
              method: req.method ?? '',
              path: (req.url ?? '').split('?')[0] ?? '',
              request: body.length ? JSON.parse(body.toString('utf8')) : undefined,
              status: up.statusCode ?? 0,
              response: text ? JSON.parse(text) : undefined,
            });
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(text);
          });
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exchanges, server };
}

/**
 * Fields the fidelity spec (a newer Alertmanager) requires that the packaged 0.25 binary does not
 * send yet. Strict validation may fail on these and nothing else.
 */
const NEWER_THAN_025 = new Set(['alertStatus.mutedBy', 'gettableSilence.annotations']);

describe.skipIf(!present)(
  present
    ? 'fidelity: Alertmanager API v2 against openapi.yaml'
    : 'fidelity: Alertmanager API v2 against openapi.yaml (../shared/fidelity absent)',
  () => {
    let am: AlertmanagerProcess;
    let recorder: Awaited<ReturnType<typeof startRecorder>>;
    let provider: AlertmanagerProvider;
    let strict: (definition: string) => ValidateFunction;
    let relaxed: (definition: string) => ValidateFunction;
    let spec: {
      definitions: Record<string, Record<string, unknown>>;
      paths: Record<string, Record<string, { responses: Record<string, { schema?: unknown }> }>>;
    };

    beforeAll(async () => {
      spec = parse(readFileSync(specPath, 'utf8')) as typeof spec;
      const build = (relax: boolean) => {
        const definitions = structuredClone(spec.definitions);
        if (relax) {
          const drop = (def: Record<string, unknown>, field: string) => {
            const required = def.required as string[] | undefined;
            if (required) def.required = required.filter((r) => r !== field);
          };
          drop(definitions.alertStatus!, 'mutedBy');
          drop((definitions.gettableSilence!.allOf as Record<string, unknown>[])[0]!, 'annotations');
        }
        const ajv = new Ajv({ strict: false, allErrors: true });
        addFormats(ajv);
        ajv.addSchema({ $id: 'am', definitions });
        return (definition: string) => ajv.compile({ $ref: `am#/definitions/${definition}` });
      };
      strict = build(false);
      relaxed = build(true);
      am = await startAlertmanager();
      recorder = await startRecorder(am.url);
      provider = createAlertmanagerProvider({ url: recorder.url });
      const now = Date.now();
      await provider.postAlerts([
        {
          labels: { alertname: 'HighLatency', service: 'payments' },
          annotations: { summary: 'slow' },
          startsAt: new Date(now - 60_000),
          generatorURL: 'http://prom.example/g',
        },
        {
          labels: { alertname: 'DiskFull', service: 'postgres' },
          startsAt: new Date(now - 60_000),
          endsAt: new Date(now + 3_600_000),
        },
      ]);
      const id = await provider.createSilence({
        matchers: [
          { name: 'service', value: 'pay.*', isRegex: true },
          { name: 'alertname', value: 'Other', isRegex: false, isEqual: false },
        ],
        startsAt: new Date(now),
        endsAt: new Date(now + 3_600_000),
        createdBy: 'day2-fidelity',
        comment: 'fidelity',
      });
      await provider.listAlerts();
      await provider.listAlerts({
        active: true,
        silenced: false,
        filter: [{ name: 'service', value: 'postgres', isRegex: false }],
      });
      await provider.listSilences();
      await provider.expireSilence(id);
      await provider.listSilences();
    });

    afterAll(async () => {
      recorder?.server.close();
      await am?.close();
    });

    const missingFields = (errors: ErrorObject[] | null | undefined, definition: string) =>
      (errors ?? []).map((e) =>
        e.keyword === 'required'
          ? `${definition}:${String(e.params.missingProperty)}`
          : `${e.instancePath} ${e.message}`,
      );

    it('day2 sends request bodies the spec accepts', () => {
      const posts = recorder.exchanges.filter((x) => x.method === 'POST');
      expect(posts.map((x) => x.path)).toEqual(['/api/v2/alerts', '/api/v2/silences']);
      for (const x of posts) {
        const validate = strict(x.path.endsWith('/alerts') ? 'postableAlerts' : 'postableSilence');
        expect(validate(x.request), JSON.stringify(validate.errors)).toBe(true);
      }
    });

    it("Alertmanager's responses match the spec (allowing only fields newer than 0.25)", () => {
      const gets = recorder.exchanges.filter((x) => x.method === 'GET');
      expect(gets.length).toBe(4);
      for (const x of gets) {
        expect(x.status).toBe(200);
        const definition = x.path.endsWith('/alerts') ? 'gettableAlerts' : 'gettableSilences';
        const loose = relaxed(definition);
        expect(loose(x.response), JSON.stringify(loose.errors)).toBe(true);
        const tight = strict(definition);
        if (!tight(x.response)) {
          for (const e of tight.errors ?? []) {
            expect(e.keyword, `${definition}: ${e.instancePath} ${e.message}`).toBe('required');
            const owner = e.schemaPath.includes('alertStatus') ? 'alertStatus' : 'gettableSilence';
            expect(
              NEWER_THAN_025.has(`${owner}.${String(e.params.missingProperty)}`),
              missingFields([e], definition).join(),
            ).toBe(true);
          }
        }
      }
    });

    it('the silence-creation response and deletion status match the spec', () => {
      const created = recorder.exchanges.find((x) => x.method === 'POST' && x.path === '/api/v2/silences')!;
      expect(created.status).toBe(200);
      const schema = spec.paths['/silences']!.post!.responses['200']!.schema;
      const ajv = new Ajv({ strict: false });
      expect(ajv.validate(schema as object, created.response)).toBe(true);
      expect(typeof (created.response as { silenceID: unknown }).silenceID).toBe('string');
      const deleted = recorder.exchanges.find((x) => x.method === 'DELETE')!;
      expect(Object.keys(spec.paths['/silence/{silenceID}']!.delete!.responses)).toContain(
        String(deleted.status),
      );
    });
  },
);
