import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskCredentialShapes, Redactor, REDACTED } from '../../src/core/redact.js';

describe('redactLogLine', () => {
  const redactor = new Redactor();
  const redactLogLine = (line: string) => redactor.redactLogLine(line);

  it('masks values that look like credentials, whatever the form of the line', () => {
    const value = fc.stringMatching(/^[A-Za-z0-9+/_-]{8,40}$/);
    const forms = [
      (v: string) => `connecting with password=${v}`,
      (v: string) => `{"level":"error","db_password":"${v}","msg":"auth failed"}`,
      (v: string) => `SENDGRID_API_KEY=${v} rejected`,
      (v: string) => `client_secret: ${v}`,
      (v: string) => `GET /hook Authorization: Bearer ${v}`,
      (v: string) => `dial postgres://app:${v}@db.internal:5432/orders failed`,
      (v: string) => `retrying with token=${v}&attempt=2`,
    ];
    fc.assert(
      fc.property(value, fc.constantFrom(...forms), (v, form) => {
        const out = redactLogLine(form(v));
        expect(out).not.toContain(v);
        expect(out).toContain(REDACTED);
      }),
    );
  });

  it('keeps what an SRE needs to read, and masks a value day2 knows as a secret anywhere', () => {
    expect(redactLogLine('panic: SENDGRID_API_KEY is not set')).toBe('panic: SENDGRID_API_KEY is not set');
    expect(redactLogLine('level=info msg="starting" container=app image=shop/web:1.2')).toBe(
      'level=info msg="starting" container=app image=shop/web:1.2',
    );
    redactor.registerSecret('s3cr3t-known-value');
    expect(redactLogLine('echoing s3cr3t-known-value by mistake')).toBe(`echoing ${REDACTED} by mistake`);
    // The shapes alone do not know it: that net is the redactor's.
    expect(maskCredentialShapes('echoing s3cr3t-known-value by mistake')).toBe(
      'echoing s3cr3t-known-value by mistake',
    );
  });
});
