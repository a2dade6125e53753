import type { z } from 'zod';
import type { Deps } from './deps.js';
import type { Principal } from '../core/principal.js';

export { ToolError } from '../core/errors.js';

/** What a tool changes: nothing, only day2's own records, or a production system. */
export type Effect = 'read' | 'record' | 'write';
export type Risk = 'low' | 'high' | 'critical';

/** A backend object an action touches; part of the action digest and of every audit record. */
export interface Target {
  kind: string;
  name: string;
  namespace?: string;
  service?: string;
}

/** The shape of a plan's preconditions or details: a JSON object. */
export type PlanRecord = Record<string, unknown>;

interface PlanBase {
  /** One line an approver reads first. */
  summary: string;
  env: string;
  service?: string;
  targets: Target[];
  /** The full plan shown to approvers: diffs, dry-run results, dependents, steps, the way back. */
  details: PlanRecord;
  /** Raises the tool's declared risk for this call (for example a restore over a live database). */
  risk?: Risk;
  /** Kinds of object this call would delete (`namespace`, `database`, `secret`); policy can deny them. */
  destroys?: string[];
}

/**
 * What a write's plan step learned about the live system, typed by the tool that made it.
 * `preconditions` (P) is everything execution needs (for example a Kubernetes resourceVersion, the
 * container to change, the alerts a silence catches); it is bound into the action digest, so a
 * target that changed between plan and execution invalidates the approval token. `details` is what
 * the approver reads: free-form display data that `execute` never sees (see ExecutablePlan).
 */
export interface ActionPlan<P extends object = PlanRecord> extends PlanBase {
  preconditions: P;
  refusal?: undefined;
}

/** A plan that refuses on its own (e.g. an HPA would fight a scale); the reason reaches the model. */
export interface RefusedPlan extends PlanBase {
  preconditions: PlanRecord;
  refusal: string;
}

/** What a write's plan step returns: an action to approve, or a refusal. */
export type Plan<P extends object = PlanRecord> = ActionPlan<P> | RefusedPlan;

/**
 * The plan as `execute` gets it: without `details`, so that what a write acts on comes from its
 * typed preconditions, which the approval is bound to, and never from display data.
 */
export type ExecutablePlan<P extends object = PlanRecord> = Omit<ActionPlan<P>, 'details'>;

/** The per-call context a handler gets. Handlers never see the MCP server object. */
export interface ToolContext {
  deps: Deps;
  principal: Principal;
  signal: AbortSignal;
  /** Sends an MCP progress notification when the client asked for them; a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** The id of this call, which every audit record it writes carries. */
  callId: string;
  /**
   * Adds a document to a read's result as an embedded resource (an export, for instance) rather than
   * to its structured output, so that it is not carried twice; it is redacted like the text.
   */
  attach?(resource: Attachment): void;
}

/** A document a read returns beside its text and structured output. */
export interface Attachment {
  uri: string;
  mimeType: string;
  text: string;
}

/**
 * What governance decided about the write being executed, handed in so that no tool recomputes
 * it: the action digest its approval was bound to, the approval's id, and who approved it.
 */
export interface ActionFacts {
  digest: string;
  approval_id?: string;
  /** Principals whose approvals were redeemed for this call; empty where policy needed none. */
  approvers: string[];
}

/** The context `execute` gets: the call's context plus the governance facts of its action. */
export interface ExecuteContext extends ToolContext {
  action: ActionFacts;
}

interface ToolBase<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  /** For people: the README's tool table. tools/list leaves it out (see toolDefinition). */
  title: string;
  description: string;
  toolset: string;
  risk: Risk;
  input: I;
  output: O;
  /**
   * The result's text, which must stand alone (many hosts show the model only the text): the answer,
   * every warning and note, what was left out and the call that gets it, within TEXT_BUDGET_BYTES
   * (build it with answerText, src/contract/answer-text.ts). `args` are the call's arguments, for
   * the next calls it names.
   */
  render(output: z.infer<z.ZodObject<O>>, args: z.infer<z.ZodObject<I>>): string;
  /** Resolves the env and service a read or record call concerns, for policy and audit. */
  scope?(args: z.infer<z.ZodObject<I>>, deps: Deps): { env?: string; service?: string };
}

export interface ReadTool<I extends z.ZodRawShape, O extends z.ZodRawShape> extends ToolBase<I, O> {
  effect: 'read' | 'record';
  /**
   * The outside system a `record` tool also writes to where one is configured (incidents are
   * mirrored to Datadog): such a tool changes more than day2's own records, so `--read-only`
   * does not serve it.
   */
  mirrorsTo?: string;
  run(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<z.infer<z.ZodObject<O>>>;
}

export interface WriteTool<
  I extends z.ZodRawShape,
  O extends z.ZodRawShape,
  P extends object = PlanRecord,
> extends ToolBase<I, O> {
  effect: 'write';
  /** A real dry run against the backend wherever it supports one. Must not change anything. */
  plan(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<Plan<P>>;
  /** Runs only after policy and approval; gets the plan made in this same call, with its types. */
  execute(
    args: z.infer<z.ZodObject<I>>,
    ctx: ExecuteContext,
    plan: ExecutablePlan<P>,
  ): Promise<z.infer<z.ZodObject<O>>>;
}

export type ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> =
  | ReadTool<I, O>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | WriteTool<I, O, any>;

/** Any tool, with its argument and result types erased, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDefinition<any, any>;

/** True for a tool that may change something outside day2: a write, or a record that mirrors out. */
export function changesOutside(tool: AnyTool): boolean {
  return tool.effect === 'write' || (tool.effect === 'record' && tool.mirrorsTo !== undefined);
}

/** Declares a tool. The registration layer adds validation, policy, approval, audit and redaction. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape, P extends object>(
  tool: WriteTool<I, O, P>,
): WriteTool<I, O, P>;
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  tool: ReadTool<I, O>,
): ReadTool<I, O>;
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  tool: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return tool;
}

/**
 * MCP annotations, derived from effect and risk in this one place. Only hints that differ from the
 * spec's defaults (readOnly false, destructive true, idempotent false, openWorld true) are sent.
 * They are hints for clients; enforcement lives in src/guards/.
 */
export function annotationsFor(tool: Pick<AnyTool, 'effect' | 'risk'>): {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
} {
  if (tool.effect === 'read') return { readOnlyHint: true };
  // A record changes only day2's own records (and, where configured, their Datadog mirror): it
  // destroys nothing, but it is not a closed world either.
  if (tool.effect === 'record') return { destructiveHint: false };
  return tool.risk === 'low' ? { destructiveHint: false } : {};
}
