import { z } from 'zod';
import { TOOLSET_CHOICES } from '../core/toolsets.js';
import { canonicalPrincipal } from '../core/principal.js';
import { formatPath } from '../core/format-issues.js';

/** A duration such as `90s`, `15m`, `8h`, `7d`, parsed to milliseconds. */
export const durationSchema = z
  .union([
    z.number().int().positive().describe('milliseconds'),
    z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 15m, 8h or 7d'),
  ])
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v)));

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return n * unit;
}

const url = z.string().url('a URL such as http://127.0.0.1:9093');

export const tierSchema = z.enum(['production', 'staging', 'development']);

const kubernetesEnv = z.strictObject({
  kubeconfig: z
    .string()
    .optional()
    .describe('path of a kubeconfig file; default: the usual KUBECONFIG lookup'),
  context: z.string().optional().describe('kubeconfig context for this environment'),
  namespaces: z.array(z.string()).min(1).default(['default']),
});

const datadogEnv = z.strictObject({
  site: z.string().optional().describe('Datadog site such as datadoghq.eu; DD_SITE otherwise'),
  base_url: url.optional().describe('full base URL; wins over site'),
  scope_tag: z.string().optional().describe('tag that scopes monitors to this environment, e.g. env:prod'),
  mirror_incidents: z.boolean().default(false),
  api_key_env: z.string().default('DD_API_KEY'),
  app_key_env: z.string().default('DD_APP_KEY'),
});

const alertmanagerEnv = z.strictObject({
  url,
  labels: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'labels every alert of this environment carries, for an Alertmanager that several environments share (e.g. env: prod)',
    ),
});

const awsEnv = z.strictObject({
  region: z.string().min(1),
  endpoint: url.optional().describe('Secrets Manager endpoint; default: the AWS endpoint for the region'),
  secret_prefix: z.string().default(''),
});

const databaseSchema = z.strictObject({
  url_env: z.string().optional().describe('environment variable holding the connection string'),
  url: z
    .string()
    .optional()
    .describe('connection string without a password (passwords come from the environment or .pgpass)'),
  migrations: z.string().optional().describe('folder of SQL migration files for this database'),
  explain_role: z
    .string()
    .min(1)
    .optional()
    .describe(
      'least-privilege role that explain_query switches to (SET ROLE) before it runs SQL from the model; the login must be a member',
    ),
});

export const environmentSchema = z.strictObject({
  tier: tierSchema,
  kubernetes: kubernetesEnv.optional(),
  datadog: datadogEnv.optional(),
  alertmanager: alertmanagerEnv.optional(),
  aws: awsEnv.optional(),
  databases: z.record(z.string(), databaseSchema).default({}),
  registry: z
    .strictObject({
      url: url.describe('base URL of the OCI Distribution API (the part before /v2/)'),
      host: z
        .string()
        .optional()
        .describe(
          'registry host that image references name, when it differs from the URL host (e.g. registry.acme.test)',
        ),
    })
    .optional(),
  desired_state: z
    .string()
    .optional()
    .describe('folder of Kubernetes manifests that is the desired state (a GitOps checkout)'),
  backups: z.string().optional().describe('folder where backup_database writes dumps'),
});

const matchValue = z.union([z.string(), z.array(z.string()).min(1)]);

export const policyRuleSchema = z.strictObject({
  id: z.string().min(1),
  description: z.string().optional(),
  match: z
    .strictObject({
      env: matchValue.optional(),
      tier: matchValue.optional(),
      tool: matchValue.optional(),
      toolset: matchValue.optional(),
      effect: matchValue.optional(),
      risk: matchValue.optional(),
      service: matchValue.optional(),
      principal: matchValue.optional(),
      destroys: matchValue.optional(),
    })
    .default({}),
  decision: z.enum(['allow', 'deny', 'require_approval']),
  approvals: z.number().int().min(1).max(10).default(1),
  distinct_from_requester: z.boolean().default(false),
  reason_required: z.boolean().default(false),
  reason: z.string().optional(),
  ttl: durationSchema.optional(),
  channels: z.array(z.enum(['cli', 'signed', 'http', 'elicitation'])).default(['cli']),
  notify_owners: z.boolean().default(false),
  max_duration: durationSchema
    .optional()
    .describe('cap on durations a matching call may ask for (grants, silences)'),
});

export const policySchema = z.strictObject({
  version: z.string().default('1'),
  rules: z.array(policyRuleSchema),
  /** When true (the default), the built-in rules are appended after these rules. */
  include_defaults: z.boolean().default(true),
});

const httpTokenSchema = z
  .strictObject({
    principal: z.string().min(1),
    token_env: z.string().optional().describe('environment variable that holds the bearer token'),
    token_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('hex SHA-256 of the bearer token'),
  })
  .refine(
    (t) => Boolean(t.token_env) !== Boolean(t.token_sha256),
    'give exactly one of token_env or token_sha256',
  );

/** Scope names for the three rights an OAuth access token can carry; see OAuthResource. */
export const OAUTH_SCOPE_DEFAULTS = { read: 'day2:read', write: 'day2:write', approve: 'day2:approve' };

const scopeName = z
  .string()
  .regex(
    /^[\x21\x23-\x5b\x5d-\x7e]+$/,
    'a scope token: printable ASCII without spaces, quotes or backslashes',
  );

/**
 * `http.oauth`: day2 as an OAuth 2.1 resource server (MCP authorization). Access tokens are JWTs
 * from `issuer`, for the audience `resource`, verified against the issuer's JWKS.
 */
export const httpOAuthSchema = z
  .strictObject({
    issuer: url.describe("the authorization server's issuer identifier; tokens must carry it as iss"),
    jwks_uri: url
      .optional()
      .describe(
        "where the issuer publishes its signing keys; when absent it is read from the issuer's metadata (RFC 8414, else OpenID discovery)",
      ),
    resource: url
      .optional()
      .describe(
        "this server's canonical URI, the audience tokens must name (RFC 8707); default: http.public_url + /mcp, or the loopback address served",
      ),
    principal_claim: z
      .string()
      .min(1)
      .default('sub')
      .describe('the claim that names the principal; email, when present, is its display name'),
    scopes: z
      .strictObject({
        read: scopeName
          .default(OAUTH_SCOPE_DEFAULTS.read)
          .describe('tools/list, read tools, resources, prompts'),
        write: scopeName
          .default(OAUTH_SCOPE_DEFAULTS.write)
          .describe('tools that plan or make changes and request approvals'),
        approve: scopeName
          .default(OAUTH_SCOPE_DEFAULTS.approve)
          .describe('deciding on the approval page; never granted through /mcp'),
      })
      .refine((s) => new Set([s.read, s.write, s.approve]).size === 3, 'the three scope names must differ')
      .default(OAUTH_SCOPE_DEFAULTS),
    clock_skew: durationSchema
      .default(30_000)
      .describe('leeway for exp and nbf, for clocks that differ a little'),
    jwks_cooldown: durationSchema
      .default(30_000)
      .describe('a token with an unknown key id refetches the JWKS at most once within this'),
    approval_login: z
      .strictObject({
        client_id: z.string().min(1).describe('the approval page as a client of the issuer'),
        client_secret_env: z
          .string()
          .optional()
          .describe('variable holding its client secret; without one it is a public client (PKCE)'),
        session_key_env: z
          .string()
          .min(1)
          .describe(
            'variable holding a secret of 32 characters or more, the same on every replica: it encrypts the sign-in cookies',
          ),
      })
      .optional()
      .describe('people sign in to the approval page with OpenID Connect (authorization code + PKCE)'),
  })
  .superRefine((o, ctx) => {
    // Fields that are not URLs have their own issue already.
    const issuer = URL.parse(o.issuer);
    if (issuer && (issuer.search || issuer.hash))
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message: 'an issuer has no query or fragment (RFC 8414)',
      });
    if (o.resource && URL.parse(o.resource)?.hash)
      ctx.addIssue({
        code: 'custom',
        path: ['resource'],
        message: 'a resource URI has no fragment (RFC 8707)',
      });
    for (const field of ['issuer', 'jwks_uri', 'resource'] as const) {
      const at = o[field];
      if (at && !securedOrLocal(at))
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'use https (plain http only on a loopback address)',
        });
    }
  });

/** https, or http to a loopback address (development and tests). */
function securedOrLocal(address: string): boolean {
  const u = URL.parse(address);
  return !u || u.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/** What a slow or greedy client may hold of `serve --http`: time to send a request, and sockets. */
export const HTTP_LIMIT_DEFAULTS = {
  headers_timeout: 10_000,
  request_timeout: 30_000,
  keep_alive_timeout: 65_000,
  max_connections_per_address: 256,
  max_connections: 1024,
};

const httpLimitsShape = {
  headers_timeout: durationSchema
    .default(HTTP_LIMIT_DEFAULTS.headers_timeout)
    .describe('a connection that has not sent a whole request head within this is closed (408)'),
  request_timeout: durationSchema
    .default(HTTP_LIMIT_DEFAULTS.request_timeout)
    .describe('a request whose head and body have not all arrived within this is closed (408)'),
  keep_alive_timeout: durationSchema
    .default(HTTP_LIMIT_DEFAULTS.keep_alive_timeout)
    .describe(
      'an idle keep-alive connection is closed after this; keep it above the load balancer idle timeout',
    ),
  max_connections_per_address: z
    .number()
    .int()
    .positive()
    .default(HTTP_LIMIT_DEFAULTS.max_connections_per_address)
    .describe(
      'open connections one remote address may hold; more are refused (a load balancer is one address)',
    ),
  max_connections: z
    .number()
    .int()
    .positive()
    .default(HTTP_LIMIT_DEFAULTS.max_connections)
    .describe('open connections in all; more are refused'),
};

/** Prices of one environment, for cost estimates. */
export const priceTableSchema = z.strictObject({
  vcpu_hour: z.number().nonnegative().describe('price of one vCPU requested for one hour'),
  gib_hour: z.number().nonnegative().describe('price of one GiB of memory requested for one hour'),
  storage_gib_month: z
    .number()
    .nonnegative()
    .optional()
    .describe('price of one GiB of persistent volume for one month'),
  load_balancer_hour: z
    .number()
    .nonnegative()
    .optional()
    .describe('price of one LoadBalancer Service for one hour'),
});

/** Time-bound access (grant_access, the reaper). */
export const accessConfigSchema = z.strictObject({
  max_duration: durationSchema
    .optional()
    .describe('longest grant day2 makes in any environment, whatever policy allows'),
  reap_interval: durationSchema
    .optional()
    .describe('how often `day2 serve` revokes expired grants (default 60s)'),
  scan_interval: durationSchema
    .optional()
    .describe(
      'how often `day2 serve` reads the clusters for day2 RoleBindings its store lost, in a short-lived process, while it has not loaded the Kubernetes client itself (default 10m; once it has, every reap pass)',
    ),
});

/** Cost estimates (cost_report, scale_idle_to_zero, the backlog). */
export const costConfigSchema = z.strictObject({
  prices: z.record(z.string(), priceTableSchema).default({}).describe('price table per environment'),
  default_prices: priceTableSchema
    .optional()
    .describe('prices for environments without their own (default: typical on-demand cloud prices)'),
  idle_cpu_millicores: z
    .number()
    .positive()
    .default(20)
    .describe('a workload whose p95 CPU per pod is below this is idle'),
  window: durationSchema
    .optional()
    .describe('span over which cost_report samples metrics.k8s.io (with samples > 1)'),
  samples: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(1)
    .describe('metrics.k8s.io snapshots per report, spread over window'),
});

/** Where signed audit checkpoints are copied outside the store (exactly one kind). */
export const auditWitnessSchema = z
  .strictObject({
    file: z.string().optional().describe('append-only JSON-lines file on another volume'),
    directory: z.string().optional().describe('folder on another volume: one append-only file a day'),
    webhook: z
      .strictObject({
        url: url.describe('receiver that keeps each POSTed checkpoint'),
        token_env: z.string().optional().describe('environment variable holding a bearer token for it'),
        timeout: durationSchema.default(5000),
      })
      .optional(),
    postgres: z
      .strictObject({
        url_env: z
          .string()
          .describe('environment variable holding the connection string of the witness database and role'),
        table: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, 'a table name such as schema.table')
          .default('day2_witness.audit_checkpoints'),
      })
      .optional(),
  })
  .refine(
    (w) => [w.file, w.directory, w.webhook, w.postgres].filter((v) => v !== undefined).length === 1,
    'give exactly one of file, directory, webhook or postgres',
  );

const configObject = z.strictObject({
  principal: z.string().optional().describe('principal for stdio sessions when DAY2_PRINCIPAL is unset'),
  toolsets: z
    .array(z.enum(TOOLSET_CHOICES))
    .min(1)
    .optional()
    .describe('toolsets `day2 serve` serves when --toolsets is not given; `all` for every tool'),
  environments: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes'), environmentSchema)
    .default({}),
  catalog: z.strictObject({ paths: z.array(z.string()).default([]) }).default({ paths: [] }),
  policy: z.union([z.strictObject({ file: z.string() }), policySchema]).optional(),
  approvals: z
    .strictObject({
      ttl: durationSchema.default(15 * 60_000),
      keys: z
        .array(
          z
            .strictObject({
              principal: z.string().min(1),
              public_key: z.string().optional().describe('Ed25519 public key, PEM'),
              public_key_file: z.string().optional().describe('file holding it, relative to day2.yaml'),
            })
            .refine(
              (k) => Boolean(k.public_key) !== Boolean(k.public_key_file),
              'give exactly one of public_key or public_key_file',
            ),
        )
        .default([])
        .describe('approvers who sign their approvals (day2 approve --key): the policy channel "signed"'),
    })
    .default({ ttl: 15 * 60_000, keys: [] }),
  audit: z
    .strictObject({
      signing_key_file: z
        .string()
        .optional()
        .describe(
          'Ed25519 private key (PEM) that signs checkpoints; default ~/.config/day2/audit-signing.pem, never beside the store',
        ),
      verify_key: z
        .union([z.string(), z.array(z.string()).min(1)])
        .optional()
        .describe('Ed25519 public key file(s) (PEM) that `day2 audit verify` checks signatures with'),
      checkpoint_every: z.number().int().positive().default(256),
      witness: auditWitnessSchema.optional(),
    })
    .default({ checkpoint_every: 256 }),
  store: z
    .strictObject({
      url: z.string().optional(),
      timeout: durationSchema
        .default(3000)
        .describe('SQLite: how long a store call may take, waiting for a lock included, before it fails'),
    })
    .default({ timeout: 3000 }),
  notify: z
    .strictObject({
      webhook_url: url.optional(),
      timeout: durationSchema.default(5000),
    })
    .default({ timeout: 5000 }),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8787),
      allowed_hosts: z.array(z.string()).default([]),
      allowed_origins: z.array(z.string()).default([]),
      tokens: z.array(httpTokenSchema).default([]),
      approvers: z
        .array(httpTokenSchema)
        .default([])
        .describe(
          'people who may approve on the /approvals page (HTTP Basic: principal and token); apart from tokens, so that no agent token can approve',
        ),
      public_url: url
        .optional()
        .describe(
          'the address people reach this server at, e.g. https://day2.internal: notifications link the approval page',
        ),
      max_body_bytes: z.number().int().positive().default(1_048_576),
      oauth: httpOAuthSchema
        .optional()
        .describe('accept OAuth 2.1 access tokens (JWTs) from an authorization server, beside http.tokens'),
      ...httpLimitsShape,
    })
    .refine((h) => h.headers_timeout <= h.request_timeout, {
      message: 'headers_timeout must not exceed request_timeout',
      path: ['headers_timeout'],
    })
    .default({
      host: '127.0.0.1',
      port: 8787,
      allowed_hosts: [],
      allowed_origins: [],
      tokens: [],
      approvers: [],
      max_body_bytes: 1_048_576,
      ...HTTP_LIMIT_DEFAULTS,
    }),
  backends: z
    .strictObject({
      timeout: durationSchema.default(10_000),
      retries: z.number().int().min(0).max(10).default(3),
      poll_interval: durationSchema.default(30_000),
    })
    .default({ timeout: 10_000, retries: 3, poll_interval: 30_000 }),
  access: accessConfigSchema.optional(),
  cost: costConfigSchema.optional(),
  rotation: z
    .strictObject({
      max_age_days: z
        .number()
        .int()
        .min(1)
        .default(90)
        .describe('a credential older than this is overdue when its secret sets no rotation rule'),
      warn_days: z
        .number()
        .int()
        .min(0)
        .default(14)
        .describe('due_soon this many days before a credential is due'),
      verify_window: durationSchema
        .default(30_000)
        .describe('after the restarts, how long rotate_credential watches the dependents for new alerts'),
      restart_timeout: durationSchema
        .default(300_000)
        .describe('how long each dependent may take to become ready after its restart'),
    })
    .default({ max_age_days: 90, warn_days: 14, verify_window: 30_000, restart_timeout: 300_000 }),
  sandbox: z.strictObject({ fleet: z.string().optional() }).optional(),
  runtimes_eol: z
    .record(
      z.string(),
      z.record(z.string(), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2026-04-30')),
    )
    .optional()
    .describe(
      'end-of-life dates per runtime image and version, e.g. {node: {"18": "2025-04-30"}}; merged over the built-in table',
    ),
});

/** day2.yaml, with the checks that span fields. */
export const configSchema = configObject.superRefine(principalCollisions);

/**
 * Configured principals are compared in canonical form (canonicalPrincipal), so two spellings of
 * one name (`alice` and `Alice`, or a Cyrillic `а`) would silently be one principal: refused, with
 * the path of each, as is a name with nothing visible in it.
 */
function principalCollisions(
  c: {
    principal?: string;
    http: { tokens: { principal: string }[]; approvers: { principal: string }[] };
    approvals: { keys: { principal: string }[] };
  },
  ctx: z.RefinementCtx,
): void {
  const named: { path: (string | number)[]; name: string }[] = [
    ...(c.principal === undefined ? [] : [{ path: ['principal'], name: c.principal }]),
    ...c.http.tokens.map((t, i) => ({ path: ['http', 'tokens', i, 'principal'], name: t.principal })),
    ...c.http.approvers.map((t, i) => ({ path: ['http', 'approvers', i, 'principal'], name: t.principal })),
    ...c.approvals.keys.map((k, i) => ({ path: ['approvals', 'keys', i, 'principal'], name: k.principal })),
  ];
  const first = new Map<string, { path: (string | number)[]; name: string }>();
  for (const n of named) {
    const canonical = canonicalPrincipal(n.name);
    if (!canonical) {
      ctx.addIssue({ code: 'custom', path: n.path, message: 'a principal name with visible characters' });
      continue;
    }
    const seen = first.get(canonical);
    if (!seen) first.set(canonical, n);
    else if (seen.name !== n.name)
      ctx.addIssue({
        code: 'custom',
        path: n.path,
        message: `one spelling per principal: ${JSON.stringify(n.name)} is the same principal as ${JSON.stringify(seen.name)} at ${formatPath(seen.path)} (names are compared ignoring case, width, invisible characters and look-alike letters)`,
      });
  }
}

export type Config = z.infer<typeof configSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type PolicyRule = z.infer<typeof policyRuleSchema>;
export type PolicyDocument = z.infer<typeof policySchema>;
export type Tier = z.infer<typeof tierSchema>;
