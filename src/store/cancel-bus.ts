import { z } from 'zod';

/** A client's `notifications/cancelled`, reduced to what another replica needs to find the call. */
export interface Cancellation {
  principal: string;
  requestId: string | number;
}

/**
 * Carries cancellations between the replicas that share one store, so that a `notifications/cancelled`
 * the load balancer sends to one replica reaches the call running on another. Only cancellations
 * that named no call on the publishing replica are published; a replica never hears its own.
 * Delivery is best effort: a replica that is not listening at that moment misses it, and the client
 * can still hang up.
 */
export interface CancelBus {
  /** Tells the other replicas; resolves once sent, or once the failure is logged. Never rejects. */
  publish(principal: string, requestId: string | number): Promise<void>;
  /** Calls `handler` for each cancellation another replica publishes; the returned function stops that. */
  subscribe(handler: (c: Cancellation) => void): () => void;
  /** Settles once the bus listens, or once its first attempt has failed (it keeps trying). Never rejects. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** The bus of a store only one process uses (SQLite): there is no other replica to tell. */
export const localCancelBus: CancelBus = {
  publish: () => Promise.resolve(),
  subscribe: () => () => undefined,
  ready: Promise.resolve(),
  close: () => Promise.resolve(),
};

/** A cancellation as it travels between replicas: who sent it, and which store's replicas it is for. */
export interface CancelMessage extends Cancellation {
  /** The publishing replica, which ignores its own messages. */
  replica: string;
  /** The store's schema: deployments that share a database but not a schema do not hear each other. */
  schema: string;
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_CANCEL_PAYLOAD_BYTES = 7999;

// The payload carries ids only, never arguments, reasons or anything secret.
const payloadSchema = z.object({
  v: z.literal(1),
  replica: z.string().min(1).max(64),
  schema: z.string().min(1).max(63),
  principal: z.string().min(1),
  request_id: z.union([z.string(), z.number()]),
});

/** The JSON a cancellation travels as; undefined when it would be too long to send. */
export function encodeCancellation(m: CancelMessage): string | undefined {
  const payload = JSON.stringify({
    v: 1,
    replica: m.replica,
    schema: m.schema,
    principal: m.principal,
    request_id: m.requestId,
  } satisfies z.infer<typeof payloadSchema>);
  return Buffer.byteLength(payload) <= MAX_CANCEL_PAYLOAD_BYTES ? payload : undefined;
}

/**
 * Reads a payload another process sent; undefined for anything that is not a cancellation this
 * version wrote. Anyone who can NOTIFY on the store's database could send one, so nothing in it is
 * trusted beyond naming a (principal, request id) pair to look up.
 */
export function parseCancellation(payload: string | undefined): CancelMessage | undefined {
  if (payload === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { replica, schema, principal, request_id } = parsed.data;
  return { replica, schema, principal, requestId: request_id };
}
