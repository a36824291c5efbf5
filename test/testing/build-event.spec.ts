import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  parseScalekitEventPayload,
  SCALEKIT_EVENT_CATALOGUE,
  SCALEKIT_EVENT_TYPES,
  type ScalekitEvent,
} from 'nestjs-scalekit-webhooks';
import { buildScalekitEvent, SCALEKIT_EVENT_EXAMPLES, scalekitExampleTypes } from 'nestjs-scalekit-webhooks/testing';
import { ROOT } from '../support/cli-harness.js';

describe('buildScalekitEvent', () => {
  it.each([...SCALEKIT_EVENT_TYPES])(
    '%s: a valid event from the example, with a fresh evt_ id and the current time',
    (type) => {
      const before = Date.now();
      const event = buildScalekitEvent(type);
      expect(parseScalekitEventPayload(JSON.stringify(event))).toEqual(event);
      expect(event.type).toBe(type);
      expect(event.object).toBe(SCALEKIT_EVENT_CATALOGUE[type].object);
      expect(event.id).toMatch(/^evt_[0-9A-Za-z]{24}$/);
      expect(event.id).not.toBe(SCALEKIT_EVENT_EXAMPLES[type].id);
      expect(Date.parse(event.occurred_at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(event.occurred_at)).toBeLessThanOrEqual(Date.now());
      expect(event.data).toEqual(SCALEKIT_EVENT_EXAMPLES[type].data);
    },
  );

  it('gives every event a different id', () => {
    const ids = Array.from({ length: 100 }, () => buildScalekitEvent('role.created').id);
    expect(new Set(ids).size).toBe(100);
  });

  it('merges overrides deeply: objects merge, arrays and values replace, undefined removes', () => {
    const event = buildScalekitEvent('organization.directory.user_created', {
      organization_id: 'org_mine',
      display_name: undefined,
      data: {
        email: 'ada@example.com',
        groups: [{ id: 'dirgroup_1', name: 'Engineering' }],
        custom_attributes: { team: 'core' },
      },
    });
    expect(event.organization_id).toBe('org_mine');
    expect('display_name' in event).toBe(false);
    expect(event.data.email).toBe('ada@example.com');
    expect(event.data.given_name).toBe('Dayton'); // kept from the example
    expect(event.data.groups).toEqual([{ id: 'dirgroup_1', name: 'Engineering' }]);
    expect(event.data.custom_attributes).toEqual({ mobile_phone_number: '1-579-4072', team: 'core' });
    expect(() => parseScalekitEventPayload(JSON.stringify(event))).not.toThrow();
  });

  it('id and occurred_at can be overridden; the examples are never changed', () => {
    const event = buildScalekitEvent('role.created', {
      id: 'evt_fixed',
      occurred_at: '2025-01-01T00:00:00.123456789Z',
      data: { name: 'x' },
    });
    expect(event.id).toBe('evt_fixed');
    expect(event.occurred_at).toBe('2025-01-01T00:00:00.123456789Z');
    event.data.description = 'changed';
    (event.data as { extra?: number }).extra = 1;
    expect(buildScalekitEvent('role.created').data).toEqual(SCALEKIT_EVENT_EXAMPLES['role.created'].data);
    expect(SCALEKIT_EVENT_EXAMPLES['role.created'].data.name).toBe('viewer');
    expect(Object.isFrozen(SCALEKIT_EVENT_EXAMPLES['role.created'].data)).toBe(true);
  });

  it('ignores prototype keys in overrides', () => {
    const event = buildScalekitEvent('role.created', JSON.parse('{"data":{"__proto__":{"polluted":true}}}'));
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect((event.data as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('accepts unknown types: an envelope with data {} (or the given data) that the module accepts', () => {
    const bare = buildScalekitEvent('organization.directory_created');
    expect(bare).toMatchObject({ spec_version: '1', type: 'organization.directory_created', data: {} });
    expect(() => parseScalekitEventPayload(JSON.stringify(bare))).not.toThrow();
    const withData = buildScalekitEvent('organization.directory_created', {
      object: 'Directory',
      data: { id: 'dir_1' },
    });
    expect(withData.data).toEqual({ id: 'dir_1' });
    expect(withData.object).toBe('Directory');
    expect(() => buildScalekitEvent('')).toThrow(TypeError);
  });

  it('is typed by the event type', () => {
    const user = buildScalekitEvent('organization.directory.user_created', { data: { email: 'a@b.co' } });
    const email: string | null | undefined = user.data.email;
    const typed: ScalekitEvent<'organization.directory.user_created'> = user;
    // @ts-expect-error -- `given_name` is a string, not a number
    buildScalekitEvent('organization.directory.user_created', { data: { given_name: 1 } });
    // @ts-expect-error -- a role has no `email`
    void buildScalekitEvent('role.created').data.email;
    const unknown = buildScalekitEvent('brand.new_event', { data: { anything: true } });
    const data: Record<string, unknown> = unknown.data;
    expect([email, typed.type, data['anything']]).toEqual(['a@b.co', 'organization.directory.user_created', true]);
  });

  it('ships the 41 examples, in catalogue order', () => {
    expect(Object.keys(SCALEKIT_EVENT_EXAMPLES)).toEqual([...SCALEKIT_EVENT_TYPES]);
    expect(scalekitExampleTypes()).toEqual([...SCALEKIT_EVENT_TYPES]);
  });

  it('lib/testing/examples.generated.ts is up to date with catalogue/examples (generator --check)', async () => {
    const result = await new Promise<{ code: number; output: string }>((done) =>
      execFile(
        process.execPath,
        [join(ROOT, '.ci/generate-examples.mjs'), '--check'],
        { cwd: ROOT },
        (error, stdout, stderr) =>
          done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      ),
    );
    expect(result.output).toContain('is up to date');
    expect(result.code).toBe(0);
  });
});
