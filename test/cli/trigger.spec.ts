import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScalekitWebhookModule, signScalekitWebhook } from 'nestjs-scalekit-webhooks';
import { startApp, type TestApp } from '../support/app.js';
import { eventOf, OTHER_SECRET, SECRET } from '../support/events.js';
import { CallLog, DirectoryHandlers } from '../support/handlers.js';
import { type BuiltCli, buildCli, closedPort, runCli, startCli } from '../support/cli-harness.js';

// The CLI as a user runs it: `node dist/esm/cli/main.js …` (built into a temp dir), against a real Nest app.
let cli: BuiltCli;
let t: TestApp;
let log: CallLog;
let endpoint: string;

beforeAll(async () => {
  [cli, t] = await Promise.all([
    buildCli(),
    startApp('express', {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRET })],
      providers: [CallLog, DirectoryHandlers],
    }),
  ]);
  log = t.app.get(CallLog);
  endpoint = `${t.url}/webhooks/scalekit`;
}, 60_000);
afterAll(async () => {
  await t?.close();
  cli?.cleanup();
});
beforeEach(() => log.clear());

const userEvents = () => log.calls.filter((c) => c.handler === 'everything').map((c) => c.event);

describe('trigger', () => {
  it('sends a signed example event with fresh ids: exit 0, prints the status, body and elapsed time', async () => {
    const res = await runCli(cli, [
      'trigger',
      'organization.directory.user_created',
      '--url',
      endpoint,
      '--secret',
      SECRET,
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`POST ${endpoint}`);
    expect(res.stdout).toMatch(/^200 OK {2}[\d.]+ ms$/m);
    expect(res.stdout).toContain('{"received":true}');

    const [event] = userEvents();
    expect(event?.type).toBe('organization.directory.user_created');
    expect(event?.id).toMatch(/^evt_[0-9A-Za-z]{24}$/);
    expect(event?.id).not.toBe('evt_53891546994442316'); // the example's own id
    expect(Date.now() - Date.parse(event!.occurred_at)).toBeLessThan(60_000);
    expect((event?.data as { email?: string }).email).toBe('flavio@runolfsdottir.co.duk'); // from the example
    const webhookId = log.calls[0]!.delivery.webhookId;
    expect(webhookId).toMatch(/^msg_/);
    expect(res.stdout).toContain(`${event!.id}  webhook-id ${webhookId}`);
    expect(res.stdout).not.toContain('\u001b['); // not a TTY: no colours
  });

  it('gives every run fresh evt_ and msg_ ids', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await runCli(cli, ['trigger', 'role.created', '--url', endpoint, '--secret', SECRET])).code).toBe(0);
    }
    const ids = log.calls.filter((c) => c.handler === 'everything');
    expect(new Set(ids.map((c) => c.event.id)).size).toBe(2);
    expect(new Set(ids.map((c) => c.delivery.webhookId)).size).toBe(2);
  });

  it('reads the secret from SCALEKIT_WEBHOOK_SECRET and posts to /webhooks/scalekit when the URL has no path', async () => {
    const res = await runCli(cli, ['trigger', 'role.created', '--url', t.url], {
      env: { SCALEKIT_WEBHOOK_SECRET: SECRET },
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`POST ${endpoint}`);
    expect(userEvents().map((e) => e.type)).toEqual(['role.created']);
  });

  it('replaces data with --data and the organization with --organization', async () => {
    const file = join(cli.dir, 'user.json');
    writeFileSync(
      file,
      JSON.stringify({ id: 'diruser_custom', organization_id: 'org_53879494091473415', email: 'ada@example.com' }),
    );
    const res = await runCli(cli, [
      'trigger',
      'organization.directory.user_created',
      '--url',
      endpoint,
      '--secret',
      SECRET,
      '--data',
      'user.json',
      '--organization',
      'org_mine',
    ]);
    expect(res.code).toBe(0);
    const [event] = userEvents();
    expect(event?.organization_id).toBe('org_mine');
    expect(event?.data).toEqual({ id: 'diruser_custom', organization_id: 'org_mine', email: 'ada@example.com' });
  });

  it('reads --data - from standard input', async () => {
    const res = await runCli(cli, ['trigger', 'role.created', '--url', endpoint, '--secret', SECRET, '--data', '-'], {
      input: '{"id":"role_x","name":"auditor"}',
    });
    expect(res.code).toBe(0);
    expect(userEvents()[0]?.data).toEqual({ id: 'role_x', name: 'auditor' });
  });

  it('bad signature (another secret): exit 1, prints the 401 and a hint', async () => {
    const res = await runCli(cli, ['trigger', 'role.created', '--url', endpoint, '--secret', OTHER_SECRET]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^401 Unauthorized/m);
    expect(res.stdout).toContain('"error":"signature_verification_failed"');
    expect(res.stderr).toContain('is --secret the secret the app is configured with?');
    expect(log.calls).toHaveLength(0);
  });

  it('a wrong path: exit 1 with the 404', async () => {
    const res = await runCli(cli, ['trigger', 'role.created', '--url', `${t.url}/nope`, '--secret', SECRET]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^404 Not Found/m);
    expect(res.stderr).toContain('check the path');
    // A global prefix is the usual reason for a 404 in an app that does register the module.
    expect(res.stderr).toContain('app.setGlobalPrefix() prefixes it (e.g. /api/webhooks/scalekit');
  });

  it('unknown type: exit 2 (bad usage), nothing sent, the closest known types suggested', async () => {
    const res = await runCli(cli, [
      'trigger',
      'organization.directory.user_create',
      '--url',
      endpoint,
      '--secret',
      SECRET,
    ]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('unknown event type "organization.directory.user_create"');
    expect(res.stderr).toMatch(
      /Did you mean: organization\.directory\.user_created, organization\.directory\.user_updated, organization\.directory\.user_deleted\?/,
    );
    expect(res.stderr).toContain('scalekit-webhooks list');
    expect(log.calls).toHaveLength(0);

    const other = await runCli(cli, ['trigger', 'user_login', '--url', endpoint, '--secret', SECRET]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('Did you mean: user.login');
    const far = await runCli(cli, ['trigger', 'zzz', '--url', endpoint, '--secret', SECRET]);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('Did you mean');
  });

  it('--allow-unknown sends an unknown type, which the module routes to wildcard handlers', async () => {
    const res = await runCli(cli, [
      'trigger',
      'organization.directory_created',
      '--allow-unknown',
      '--url',
      endpoint,
      '--secret',
      SECRET,
    ]);
    expect(res.code).toBe(0);
    expect(log.names()).toEqual(['everything']);
    expect(userEvents()[0]).toMatchObject({ type: 'organization.directory_created', data: {} });
  });

  it('unreachable URL: exit 1 with a clear message', async () => {
    const port = await closedPort();
    const res = await runCli(cli, [
      'trigger',
      'role.created',
      '--url',
      `http://127.0.0.1:${port}/webhooks/scalekit`,
      '--secret',
      SECRET,
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `cannot reach http://127.0.0.1:${port}/webhooks/scalekit: connection refused (ECONNREFUSED)`,
    );
    expect(res.stderr).toContain('Is the app running');
    expect(res.stderr).not.toContain('    at '); // no stack trace
  });

  it.each([
    ['no type', ['trigger', '--url', 'http://127.0.0.1:1', '--secret', SECRET], 'missing the event type'],
    ['no --url', ['trigger', 'role.created', '--secret', SECRET], '--url is required'],
    ['bad --url', ['trigger', 'role.created', '--url', 'localhost', '--secret', SECRET], 'is not a valid URL'],
    [
      'no secret',
      ['trigger', 'role.created', '--url', 'http://127.0.0.1:1'],
      'pass --secret whsec_… or set SCALEKIT_WEBHOOK_SECRET',
    ],
    [
      'unknown option',
      ['trigger', 'role.created', '--url', 'http://127.0.0.1:1', '--secret', SECRET, '--nope'],
      "Unknown option '--nope'",
    ],
    [
      'bad --count',
      ['trigger', 'role.created', '--url', 'http://127.0.0.1:1', '--secret', SECRET, '--count', '0'],
      '--count must be a whole number',
    ],
    [
      'missing --data file',
      ['trigger', 'role.created', '--url', 'http://127.0.0.1:1', '--secret', SECRET, '--data', 'nope.json'],
      'cannot read --data nope.json: no such file',
    ],
    ['unknown command', ['trigger-it'], 'unknown command "trigger-it" (did you mean trigger?)'],
    ['no command', [], 'Usage: scalekit-webhooks <command>'],
  ])('bad usage (%s): exit 2 and a message on stderr', async (_name, args, message) => {
    const res = await runCli(cli, args as string[]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stdout).toBe('');
  });

  it('refuses a malformed secret without ever printing it', async () => {
    const secret = 'whsec_not*base64*at*all';
    for (const res of [
      await runCli(cli, ['trigger', 'role.created', '--url', endpoint, '--secret', secret]),
      await runCli(cli, ['trigger', 'role.created', '--url', endpoint], { env: { SCALEKIT_WEBHOOK_SECRET: secret } }),
    ]) {
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/(--secret|SCALEKIT_WEBHOOK_SECRET) is not valid base64/);
      expect(res.stderr + res.stdout).not.toContain('not*base64');
    }
  });

  it('--count/--concurrency: sends N fresh events and prints a summary (statuses, p50/p95, total)', async () => {
    const res = await runCli(cli, [
      'trigger',
      'role.created',
      '--url',
      endpoint,
      '--secret',
      SECRET,
      '--count',
      '25',
      '--concurrency',
      '5',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Sent 25 × role.created to ${endpoint} (concurrency 5)`);
    expect(res.stdout).toMatch(/^ {2}200 {3}× 25$/m);
    expect(res.stdout).toMatch(/^elapsed: p50 [\d.]+ m?s · p95 [\d.]+ m?s · max [\d.]+ m?s$/m);
    expect(res.stdout).toMatch(/^total: [\d.]+ m?s \([\d.]+ requests\/s\)$/m);
    const events = userEvents();
    expect(events).toHaveLength(25);
    expect(new Set(events.map((e) => e.id)).size).toBe(25);
  });

  it('--count with failures: exit 1, the histogram and a sample of the failure', async () => {
    const res = await runCli(cli, [
      'trigger',
      'role.created',
      '--url',
      endpoint,
      '--secret',
      OTHER_SECRET,
      '--count',
      '4',
      '--concurrency',
      '2',
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^ {2}401 {3}× 4$/m);
    expect(res.stderr).toContain('401: {"statusCode":401');
  });

  it('--help on trigger and on the CLI: exit 0, usage on stdout', async () => {
    for (const args of [
      ['trigger', '--help'],
      ['trigger', '-h'],
      ['help', 'trigger'],
    ]) {
      const res = await runCli(cli, args);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('Usage: scalekit-webhooks trigger <type> --url <endpoint>');
    }
    const main = await runCli(cli, ['--help']);
    expect(main.code).toBe(0);
    for (const command of ['trigger', 'sign', 'verify', 'list', 'serve']) {
      expect(main.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });
});

describe('serve', () => {
  it('receives a delivery from trigger, verifies and prints it, answers like the module, and stops on SIGTERM', async () => {
    const server = startCli(cli, ['serve', '--port', '0', '--secret', SECRET]);
    try {
      const [, url] = await server.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/);
      expect(server.stdout()).toContain('Verifying with the given secret, tolerance 300 s');

      const sent = await runCli(cli, [
        'trigger',
        'organization.directory.user_created',
        '--url',
        url!,
        '--secret',
        SECRET,
        '--organization',
        'org_served',
      ]);
      expect(sent.code).toBe(0);
      expect(sent.stdout).toContain('{"received":true}');
      const eventId = sent.stdout.match(/(evt_\w+)/)![1]!;
      await server.waitFor(
        new RegExp(
          `POST /webhooks/scalekit {2}200 {2}organization\\.directory\\.user_created {2}${eventId} {2}✓ verified webhook-id msg_`,
        ),
      );
      expect(server.stdout()).toContain('organization org_served');
      expect(server.stdout()).toContain('"email": "flavio@runolfsdottir.co.duk"'); // pretty-printed data

      const forged = await runCli(cli, ['trigger', 'role.created', '--url', url!, '--secret', OTHER_SECRET]);
      expect(forged.code).toBe(1);
      expect(forged.stdout).toContain(
        '{"statusCode":401,"error":"signature_verification_failed","message":"Webhook signature verification failed"}',
      );
      await server.waitFor(/ 401 {2}no_matching_signature: none of the 1 v1 signature\(s\) matches/);

      // A correctly signed body sent as a form: 415, as the module answers.
      const form = signScalekitWebhook({ secret: SECRET, payload: { hello: 'form' } });
      const formRes = await fetch(`${url!}/webhooks/scalekit`, {
        method: 'POST',
        headers: { ...form.headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.body,
      });
      expect(formRes.status).toBe(415);
      expect(((await formRes.json()) as { error: string }).error).toBe('unsupported_media_type');

      expect(await server.stop('SIGTERM')).toBe(0);
      expect(server.stdout()).toContain('Stopping.');
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('deduplicates like the module: a second copy of an event is acknowledged and printed as a duplicate, once', async () => {
    const server = startCli(cli, ['serve', '--port', '0', '--secret', SECRET]);
    try {
      const [, url] = await server.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const event = eventOf('user.login');
      const post = async () => {
        const copy = signScalekitWebhook({ secret: SECRET, payload: event }); // a retry: same event, new signature
        const res = await fetch(`${url!}/webhooks/scalekit`, {
          method: 'POST',
          headers: copy.headers,
          body: copy.body,
        });
        return { status: res.status, body: await res.json() };
      };
      expect(await post()).toEqual({ status: 200, body: { received: true } });
      expect(await post()).toEqual({ status: 200, body: { received: true } });
      await server.waitFor(/ 200 {2}duplicate of an event already received/);
      const printed = server
        .stdout()
        .split('\n')
        .filter((text) => text.includes(`user.login  ${event.id}`));
      expect(printed).toHaveLength(1); // the event itself is printed once
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('without a secret, prints deliveries unverified (and says so); stops on SIGINT', async () => {
    const server = startCli(cli, ['serve', '--port', '0', '--path', '/hooks']);
    try {
      const [, url] = await server.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)\/hooks/);
      expect(server.stdout()).toContain('deliveries are printed but NOT verified');
      expect(
        (await runCli(cli, ['trigger', 'user.login', '--url', `${url}/hooks`, '--secret', OTHER_SECRET])).code,
      ).toBe(0);
      await server.waitFor(/POST \/hooks {2}200 {2}user\.login {2}evt_\w+ {2}unverified \(no secret\)/);
      const elsewhere = await runCli(cli, ['trigger', 'user.login', '--url', `${url}/other`, '--secret', OTHER_SECRET]);
      expect(elsewhere.stdout).toMatch(/^404 /m);
      expect(await server.stop('SIGINT')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('a port in use: exit 1 with a clear message; bad usage: exit 2', async () => {
    const port = new URL(t.url).port;
    const res = await runCli(cli, ['serve', '--port', port, '--secret', SECRET]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use (EADDRINUSE)`);
    const bad = await runCli(cli, ['serve', '--port', '99999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a whole number from 0 to 65535');
    const help = await runCli(cli, ['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: scalekit-webhooks serve');
  });
});
