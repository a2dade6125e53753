import type { Logger } from '../../core/log.js';
import type { Redactor } from '../../core/redact.js';

/** A message for people: a new approval request, a finished rotation, an expiring grant. */
export interface Notification {
  kind: string;
  title: string;
  text: string;
  /** Who should see it: team or person handles from the catalog. */
  recipients?: string[];
  fields?: Record<string, unknown>;
  command?: string;
  /** Where to act on it in a browser (the approval page), when there is one. */
  url?: string;
}

export interface Notifier {
  /** Delivers or throws NotifyError; callers decide whether a failure stops their action. */
  send(n: Notification): Promise<void>;
}

export class NotifyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotifyError';
  }
}

/**
 * Posts JSON to a webhook. The payload has a plain `text` (Slack- and Mattermost-compatible
 * incoming webhooks render it) plus structured fields for anything else.
 */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly redactor: Redactor,
  ) {}

  async send(n: Notification): Promise<void> {
    const body = JSON.stringify(
      this.redactor.redact({
        text: `*${n.title}*\n${n.text}${n.command ? `\n\`${n.command}\`` : ''}${n.url ? `\n${n.url}` : ''}`,
        day2: n,
      }),
    );
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new NotifyError(`notification webhook unreachable: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new NotifyError(`notification webhook answered ${res.status}`);
  }
}

/** Used when no webhook is configured: notifications go to the log so nothing is silently lost. */
export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}
  send(n: Notification): Promise<void> {
    this.log.info('notification', {
      kind: n.kind,
      title: n.title,
      text: n.text,
      recipients: n.recipients,
      command: n.command,
      url: n.url,
    });
    return Promise.resolve();
  }
}
