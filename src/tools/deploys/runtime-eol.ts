/**
 * End-of-life dates of common runtime images, by image name and version line. Data, reviewed by
 * hand; `runtimes_eol` in day2.yaml adds to it and overrides it. Python and Go lines are
 * `major.minor`; the others are the major version.
 */
export const RUNTIME_EOL: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  node: {
    '16': '2023-09-11',
    '18': '2025-04-30',
    '20': '2026-04-30',
    '22': '2027-04-30',
    '24': '2028-04-30',
  },
  python: {
    '3.8': '2024-10-07',
    '3.9': '2025-10-31',
    '3.10': '2026-10-31',
    '3.11': '2027-10-31',
    '3.12': '2028-10-31',
    '3.13': '2029-10-31',
  },
  openjdk: { '8': '2026-11-30', '11': '2027-10-31', '17': '2027-10-31', '21': '2029-12-31' },
  'eclipse-temurin': { '8': '2026-11-30', '11': '2027-10-31', '17': '2027-10-31', '21': '2029-12-31' },
  golang: {
    '1.21': '2024-08-13',
    '1.22': '2025-02-11',
    '1.23': '2025-08-12',
    '1.24': '2026-02-11',
    '1.25': '2026-08-11',
  },
  postgres: {
    '12': '2024-11-21',
    '13': '2025-11-13',
    '14': '2026-11-12',
    '15': '2027-11-11',
    '16': '2028-11-09',
    '17': '2029-11-08',
  },
};

export interface RuntimeStatus {
  runtime: string;
  line: string;
  eol: string;
  status: 'end_of_life' | 'eol_within_6_months' | 'supported';
}

/**
 * The runtime an image names (the last segment of its repository: `node`, `library/python`,
 * `eclipse-temurin`) and its support status on `now`; undefined for other images or unknown lines.
 */
export function runtimeStatus(
  repository: string,
  tag: string | undefined,
  now: Date,
  overrides: Record<string, Record<string, string>> = {},
): RuntimeStatus | undefined {
  const runtime = repository.split('/').pop() ?? '';
  const table = { ...(RUNTIME_EOL[runtime] ?? {}), ...(overrides[runtime] ?? {}) };
  if (!tag || Object.keys(table).length === 0) return undefined;
  const m = /^v?(\d+)(?:\.(\d+))?/.exec(tag);
  if (!m) return undefined;
  const line = m[2] !== undefined && table[`${m[1]}.${m[2]}`] ? `${m[1]}.${m[2]}` : m[1]!;
  const eol = table[line];
  if (!eol) return undefined;
  const days = (Date.parse(`${eol}T00:00:00Z`) - now.getTime()) / 86_400_000;
  return {
    runtime,
    line,
    eol,
    status: days < 0 ? 'end_of_life' : days <= 183 ? 'eol_within_6_months' : 'supported',
  };
}
