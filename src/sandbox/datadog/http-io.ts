import type { IncomingMessage, ServerResponse } from 'node:http';

/** Thrown by handlers to answer with a Datadog-shaped error: `{"errors":[...]}`. */
export class DatadogHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(errors.join('; '));
    this.name = 'DatadogHttpError';
  }
}

export function badRequest(message: string): DatadogHttpError {
  return new DatadogHttpError(400, [message]);
}

export function notFound(message: string): DatadogHttpError {
  return new DatadogHttpError(404, [message]);
}

const MAX_BODY = 1_048_576;

/** Reads a JSON request body; an empty body is `undefined`, malformed JSON is a 400 as the API answers. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new DatadogHttpError(413, ['Request entity too large']);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('Invalid JSON body');
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

/** 204 as the real API sends it (the recordings show an empty text/html body). */
export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204, { 'content-type': 'text/html; charset=utf-8' });
  res.end();
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads `data.attributes` of a JSON:API request body, or answers 400. */
export function jsonApiAttributes(body: unknown): {
  data: Record<string, unknown>;
  attributes: Record<string, unknown>;
} {
  if (!isRecord(body) || !isRecord(body.data)) throw badRequest('Invalid request: missing data');
  const attributes = body.data.attributes;
  if (!isRecord(attributes)) throw badRequest('Invalid request: missing data.attributes');
  return { data: body.data, attributes };
}

/** Datadog timestamps look like `2023-06-02T20:53:23.252025+00:00`. */
export function ddTimestamp(d: Date): string {
  return d.toISOString().replace('Z', '+00:00');
}
