import { describe, expect, it } from 'vitest';
import { allTools } from '../../../src/tools/index.js';
import { incidentTools } from '../../../src/tools/incidents/index.js';
import { PROPOSED_TOOL_EFFECTS } from '../../../src/tools/incidents/triage-service.js';

describe('incident toolset', () => {
  it('triage labels every tool it may propose with the effect that tool declares', () => {
    const byName = new Map([...allTools, ...incidentTools].map((t) => [t.name, t]));
    for (const [name, effect] of Object.entries(PROPOSED_TOOL_EFFECTS))
      expect(byName.get(name)?.effect, name).toBe(effect);
  });

  it('every write takes approval_token and dry_run; records and reads take neither', () => {
    for (const t of incidentTools) {
      const keys = Object.keys(t.input);
      if (t.effect === 'write')
        expect(keys, t.name).toEqual(expect.arrayContaining(['approval_token', 'dry_run']));
      else
        expect(
          keys.filter((k) => k === 'approval_token' || k === 'dry_run'),
          t.name,
        ).toEqual([]);
      expect(t.toolset).toBe('incidents');
    }
    expect(incidentTools.map((t) => t.name).sort()).toEqual([
      'open_incident',
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
