import { badRequest, KubeApiError } from './status.js';
import type { KubeObject } from './types.js';

interface ContainerStatus {
  name: string;
  image?: string;
  state?: {
    running?: { startedAt?: string };
    waiting?: { reason?: string };
    terminated?: Terminated;
  };
  lastState?: { terminated?: Terminated };
}

interface Terminated {
  exitCode?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

interface Line {
  at: string;
  text: string;
}

/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log`: what the kubelet would return for a pod the
 * emulator runs, with the API server's query parameters (container, previous, tailLines,
 * limitBytes, sinceSeconds, timestamps) and its errors, word for word. The sandbox has no
 * processes, so a container's output is derived from its status: a start-up line per run and,
 * for a run that ended, its termination message (what `FallbackToLogsOnError` would have taken
 * from the log).
 */
export function podLog(
  pod: KubeObject,
  query: URLSearchParams,
  now: Date,
  errorMessages: ReadonlyMap<string, string> = new Map(),
): string {
  const name = pod.metadata.name;
  const specs =
    (pod.spec as { containers?: { name: string; ports?: { containerPort?: number }[] }[] }).containers ?? [];
  const statuses =
    (pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? [];
  const opts = logOptions(query, name);
  const container = opts.container ?? (specs.length === 1 ? specs[0]!.name : undefined);
  if (container === undefined)
    throw badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${specs.map((c) => c.name).join(' ')}]`,
    );
  const spec = specs.find((c) => c.name === container);
  if (!spec) throw badRequest(`container ${container} is not valid for pod ${name}`);
  const status = statuses.find((s) => s.name === container);

  let lines: Line[];
  if (opts.previous) {
    const last = status?.lastState?.terminated;
    if (!last) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    lines = run(status, last.startedAt, last);
  } else if (status?.state?.running) {
    lines = run(status, status.state.running.startedAt, undefined, spec.ports?.[0]?.containerPort);
    const error = errorMessages.get((status.image ?? '').split('@')[0]!);
    if (error) lines.push(...everyMinute(status.state.running.startedAt, now, `level=error msg="${error}"`));
  } else if (status?.state?.terminated) {
    lines = run(status, status.state.terminated.startedAt, status.state.terminated);
  } else if (status?.state?.waiting?.reason === 'CrashLoopBackOff' && status.lastState?.terminated) {
    // Backing off, the current container is the one that last exited: its log is still there.
    lines = run(status, status.lastState.terminated.startedAt, status.lastState.terminated);
  } else {
    throw badRequest(
      `container "${container}" in pod "${name}" is waiting to start: ${waitingText(status?.state?.waiting?.reason)}`,
    );
  }

  if (opts.sinceSeconds !== undefined) {
    const from = now.getTime() - opts.sinceSeconds * 1000;
    lines = lines.filter((l) => Date.parse(l.at) >= from);
  }
  if (opts.tailLines !== undefined) lines = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines);
  let text = lines.map((l) => `${opts.timestamps ? `${nano(l.at)} ` : ''}${l.text}\n`).join('');
  if (opts.limitBytes !== undefined) {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > opts.limitBytes) text = bytes.subarray(0, opts.limitBytes).toString('utf8');
  }
  return text;
}

/** The lines one run of a container wrote: start-up, then its end when it ended. */
function run(
  status: ContainerStatus,
  startedAt: string | undefined,
  ended?: Terminated,
  port?: number,
): Line[] {
  const start = startedAt ?? ended?.finishedAt ?? new Date(0).toISOString();
  const lines: Line[] = [
    { at: start, text: `level=info msg="starting" container=${status.name} image=${status.image ?? ''}` },
  ];
  if (!ended) {
    lines.push({ at: start, text: `level=info msg="ready"${port ? ` port=${port}` : ''}` });
    return lines;
  }
  const at = ended.finishedAt ?? start;
  for (const text of (ended.message ?? '').split('\n').filter(Boolean)) lines.push({ at, text });
  return lines;
}

/** A line logged once a minute since `from`: the last ERROR_LINES of them. */
const ERROR_LINES = 30;
function everyMinute(from: string | undefined, now: Date, text: string): Line[] {
  const start = Date.parse(from ?? '');
  if (Number.isNaN(start)) return [];
  const count = Math.floor((now.getTime() - start) / 60_000);
  const out: Line[] = [];
  for (let i = Math.max(1, count - ERROR_LINES + 1); i <= count; i++)
    out.push({ at: new Date(start + i * 60_000).toISOString(), text });
  return out;
}

function waitingText(reason: string | undefined): string {
  if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull') return 'trying and failing to pull image';
  if (reason === 'InvalidImageName') return 'image name is invalid';
  return reason ?? 'ContainerCreating';
}

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines with `timestamps=true`. */
function nano(iso: string): string {
  return new Date(iso).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** The query parameters of the log subresource that the emulator reads (all from the real API). */
export const POD_LOG_PARAMETERS = [
  'container',
  'follow',
  'previous',
  'tailLines',
  'limitBytes',
  'sinceSeconds',
  'timestamps',
] as const;

/** The API server's words for a lower bound (tailLines may be 0; limitBytes and sinceSeconds may not). */
function bound(min: number): string {
  return min === 0 ? 'must be greater than or equal to 0' : 'must be greater than 0';
}

interface LogOptions {
  container?: string;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  timestamps: boolean;
}

function logOptions(q: URLSearchParams, pod: string): LogOptions {
  const bool = (key: string): boolean => {
    const v = q.get(key);
    if (v === null || v === '' || v === 'false') return false;
    if (v === 'true') return true;
    throw badRequest(`strconv.ParseBool: parsing "${v}": invalid syntax`);
  };
  const int = (key: string, min: number): number | undefined => {
    const v = q.get(key);
    if (v === null) return undefined;
    if (!/^-?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing "${v}": invalid syntax`);
    const n = Number(v);
    if (n < min)
      throw new KubeApiError(
        422,
        'Invalid',
        `PodLogOptions "${pod}" is invalid: ${key}: Invalid value: ${n}: ${bound(min)}`,
        {
          name: pod,
          kind: 'PodLogOptions',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: `Invalid value: ${n}: ${bound(min)}`,
              field: key,
            },
          ],
        },
      );
    return n;
  };
  if (bool('follow'))
    throw badRequest('follow is not supported by the day2 sandbox: read the log without it');
  return {
    container: q.get('container') || undefined,
    previous: bool('previous'),
    tailLines: int('tailLines', 0),
    limitBytes: int('limitBytes', 1),
    sinceSeconds: int('sinceSeconds', 1),
    timestamps: bool('timestamps'),
  };
}
