import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { DatadogHttpError } from './http-io.js';

/** A service definition to seed the emulator with: the schema document itself (`dd-service` is required). */
export type ServiceDefinitionSeed = Record<string, unknown> & { 'dd-service': string };

/** The v2 service catalog, read-only: list and get by service name. */
export class ServiceDefinitionStore {
  private readonly defs = new Map<string, { schema: ServiceDefinitionSeed; modified: Date }>();

  constructor(clock: Clock, seeds: ServiceDefinitionSeed[] = []) {
    for (const s of seeds) this.defs.set(s['dd-service'], { schema: s, modified: clock.now() });
  }

  list(): unknown {
    return { data: [...this.defs.values()].map((d) => render(d.schema, d.modified)) };
  }

  getOne(name: string): unknown {
    const d = this.defs.get(name);
    if (!d) throw new DatadogHttpError(404, ['Not Found'], { error_details: [{}] });
    return { data: render(d.schema, d.modified) };
  }
}

function render(schema: ServiceDefinitionSeed, modified: Date): unknown {
  return {
    type: 'service-definition',
    id: createHash('md5').update(schema['dd-service']).digest('hex'),
    attributes: {
      meta: {
        'last-modified-time': modified.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'github-html-url': '',
        'ingestion-source': 'api',
        origin: 'unknown',
        'origin-detail': '',
        warnings: [],
        'ingested-schema-version':
          typeof schema['schema-version'] === 'string' ? schema['schema-version'] : 'v2.1',
      },
      schema,
    },
  };
}
