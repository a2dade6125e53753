import { describe, expect, it } from 'vitest';
import { inputSchemaOf } from '../../../src/guards/governed-call.js';
import { allTools } from '../../../src/tools/index.js';
import { incidentTools } from '../../../src/tools/incidents/index.js';
import { PROPOSED_TOOL_EFFECTS } from '../../../src/tools/incidents/triage-service.js';

describe('incident toolset', () => {
  it('triage labels every tool it may propose with the effect that tool declares', () => {
    const byName = new Map([...allTools, ...incidentTools].map((t) => [t.name, t]));
    for (const [name, effect] of Object.entries(PROPOSED_TOOL_EFFECTS))
      expect(byName.get(name)?.effect, name).toBe(effect);
  });

  it('every write takes approval_token, approval_id and dry_run; records and reads take none but get_approval its id', () => {
    const fields = ['approval_token', 'approval_id', 'dry_run'];
    for (const t of [...allTools, ...incidentTools]) {
      const keys = Object.keys(inputSchemaOf(t).shape);
      const governance = keys.filter((k) => fields.includes(k));
      expect(governance, t.name).toEqual(
        t.effect === 'write' ? fields : t.name === 'get_approval' ? ['approval_id'] : [],
      );
      // Added in one place for every write: a tool does not declare its own.
      expect(Object.keys(t.input), t.name).not.toContain('approval_token');
    }
    for (const t of incidentTools) expect(t.toolset).toBe('incidents');
    expect(incidentTools.map((t) => t.name).sort()).toEqual([
      'end_silence',
      'mute_service',
      'open_incident',
      'read_logs',
      'resolve_incident',
      'restart_deployment',
      'rollback_deployment',
      'schedule_downtime',
      'silence_alert',
      'triage_service',
      'update_incident',
    ]);
  });
});
