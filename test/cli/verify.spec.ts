import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCALEKIT_EVENT_TYPES, signScalekitWebhook } from 'nestjs-scalekit-webhooks';
import {
  buildScalekitEvent,
  buildScalekitInterceptorRequest,
  signScalekitInterceptor,
} from 'nestjs-scalekit-webhooks/testing';
import { nowSeconds, OTHER_SECRET, SECRET } from '../support/events.js';
import { type BuiltCli, buildCli, runCli } from '../support/cli-harness.js';

// `sign`, `verify` and `list`, run as a user runs them: `node dist/esm/cli/main.js …` (built into a temp dir).
let cli: BuiltCli;
beforeAll(async () => {
  cli = await buildCli();
}, 60_000);
afterAll(() => cli?.cleanup());

let files = 0;
/** Writes a file into the CLI's working directory and returns its name. */
function file(content: string | Buffer | object, name = `file${++files}.json`): string {
  writeFileSync(
    join(cli.dir, name),
    typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content),
  );
  return name;
}

/** A captured delivery: the exact body and its headers, signed with `secret` at `timestamp`. */
function capture(options: { secret?: string; timestamp?: number; body?: string } = {}) {
  const body = options.body ?? JSON.stringify(buildScalekitEvent('organization.directory.user_created'));
  const signed = signScalekitWebhook({ secret: options.secret ?? SECRET, payload: body, timestamp: options.timestamp });
  return { body, headers: { ...signed.headers } as Record<string, string> };
}

const verify = (headers: object, body: string | Buffer, extra: string[] = []) =>
  runCli(cli, ['verify', '--secret', SECRET, '--headers', file(headers), ...extra], { input: body });

describe('sign', () => {
  const vector = '{"test": 2432232314}';

  it('prints the three headers; the signature matches the known-answer vector', async () => {
    const res = await runCli(
      cli,
      ['sign', '--secret', SECRET, '--id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '--timestamp', '1614265330'],
      {
        input: vector,
      },
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\nwebhook-timestamp: 1614265330\nwebhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n',
    );
  });

  it('signs a body file exactly like standard input; defaults to a fresh msg_ id and the current time', async () => {
    const name = file(vector);
    const fromFile = await runCli(cli, [
      'sign',
      '--secret',
      SECRET,
      '--id',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      '--timestamp',
      '1614265330',
      name,
    ]);
    expect(fromFile.stdout).toContain('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    const fresh = await runCli(cli, ['sign', '--secret', SECRET, '--json'], { input: vector });
    expect(fresh.code).toBe(0);
    const headers = JSON.parse(fresh.stdout);
    expect(headers['webhook-id']).toMatch(/^msg_[0-9A-Za-z]{24}$/);
    expect(Math.abs(Number(headers['webhook-timestamp']) - nowSeconds())).toBeLessThanOrEqual(2);
    expect(headers['content-type']).toBe('application/json');
  });

  it('--curl prints a ready command (file body by reference, piped body inline, exactly quoted)', async () => {
    const name = file(vector, 'body.json');
    const byFile = await runCli(cli, [
      'sign',
      '--secret',
      SECRET,
      '--curl',
      '--url',
      'http://localhost:4000/hooks',
      name,
    ]);
    expect(byFile.code).toBe(0);
    const lines = byFile.stdout.trimEnd().split(' \\\n  ');
    expect(lines[0]).toBe('curl -sS -X POST http://localhost:4000/hooks');
    expect(lines).toContain("-H 'content-type: application/json'");
    expect(lines.some((l) => /^-H 'webhook-id: msg_\w+'$/.test(l))).toBe(true);
    expect(lines.some((l) => /^-H 'webhook-timestamp: \d+'$/.test(l))).toBe(true);
    expect(lines.some((l) => /^-H 'webhook-signature: v1,[A-Za-z0-9+/]{43}='$/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('--data-binary @body.json');

    const inline = await runCli(cli, ['sign', '--secret', SECRET, '--curl'], { input: `{"quote":"it's"}` });
    expect(inline.stdout).toContain('curl -sS -X POST http://localhost:3000/webhooks/scalekit');
    expect(inline.stdout.trimEnd().endsWith(`--data-raw '{"quote":"it'\\''s"}'`)).toBe(true);
  });

  it.each([
    [['sign'], 'a signing secret is required'],
    [['sign', '--secret', SECRET, '--timestamp', '17e8'], '--timestamp must be whole Unix seconds'],
    [['sign', '--secret', SECRET, '--id', 'msg 1'], '--id must be printable ASCII without spaces or commas'],
    [['sign', '--secret', SECRET, '--json', '--curl'], '--json and --curl cannot be combined'],
    [['sign', '--secret', SECRET, 'missing.json'], 'cannot read body file missing.json: no such file'],
  ])('bad usage %j: exit 2', async (args, message) => {
    const res = await runCli(cli, args, { input: '{}' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
  });
});

describe('verify', () => {
  it('--interceptor checks an interceptor call under the interceptor-* headers; without it, says what it is', async () => {
    const body = JSON.stringify(buildScalekitInterceptorRequest('PRE_SIGNUP'));
    const signed = signScalekitInterceptor({ secret: SECRET, payload: body });
    const res = await verify(signed.headers, body, ['--interceptor']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('✓ signature valid');
    expect(res.stdout).toContain(`interceptor-id         ${signed.headers['interceptor-id']}`);
    expect(res.stdout).toContain('✓ valid interceptor request  PRE_SIGNUP');

    const asWebhook = await verify(signed.headers, body);
    expect(asWebhook.code).toBe(1);
    expect(asWebhook.stdout).toContain('check it with --interceptor');

    const tampered = await verify(signed.headers, body.replace('acmecorp', 'acmecorq'), ['--interceptor']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('✗ no v1 signature matches');
  });

  it('a valid delivery: exit 0, says which entry matched and what the event is', async () => {
    const { body, headers } = capture();
    const res = await verify(headers, body);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('✓ signature valid');
    expect(res.stdout).toContain(`webhook-id         ${headers['webhook-id']}`);
    expect(res.stdout).toMatch(/webhook-timestamp {2}\d+ \(\d{4}-.*Z, \d+ s ago; tolerance 300 s\)/);
    expect(res.stdout).toContain('signature          v1 entry 1 of 1 matches');
    expect(res.stdout).toContain(
      `✓ valid event  organization.directory.user_created  ${JSON.parse(body).id}  (org_53879494091473415)`,
    );
  });

  it('reads the body from a file, and the headers as "Name: value" lines (as curl -v prints them)', async () => {
    const { body, headers } = capture();
    const headerLines = [
      '> POST /webhooks/scalekit HTTP/1.1',
      ...Object.entries(headers).map(([k, v]) => `> ${k.toUpperCase()}: ${v}`),
      '',
    ];
    const res = await runCli(cli, [
      'verify',
      '--secret',
      SECRET,
      '--headers',
      file(headerLines.join('\r\n'), 'headers.txt'),
      file(body),
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('✓ signature valid');
  });

  it('with several secrets (rotation), says which one matched', async () => {
    const { body, headers } = capture({ secret: OTHER_SECRET });
    const res = await runCli(
      cli,
      ['verify', '--secret', SECRET, '--secret', OTHER_SECRET, '--headers', file(headers)],
      { input: body },
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('v1 entry 1 of 1 matches secret 2 of 2');
  });

  it('missing header: names it and lists what the capture has', async () => {
    const { body, headers } = capture();
    delete headers['webhook-signature'];
    const res = await verify({ ...headers, 'x-scalekit-signature': 'abc' }, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ missing header: webhook-signature');
    expect(res.stdout).toContain(
      'the headers file has content-type, webhook-id, webhook-timestamp, x-scalekit-signature',
    );
    expect(res.stdout).toContain('deliveries are signed in webhook-signature');

    const none = await verify({ 'svix-id': 'msg_1' }, body);
    expect(none.stdout).toContain('✗ missing headers: webhook-id, webhook-timestamp, webhook-signature');
    expect(none.stdout).toContain('svix-* headers were found');
  });

  it('timestamp too old: the skew in seconds, the tolerance, and whether the signature itself is right', async () => {
    const { body, headers } = capture({ timestamp: nowSeconds() - 1000 });
    const res = await verify(headers, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ timestamp too old');
    const skew = Number(res.stdout.match(/is (\d+) s in the past; the tolerance is 300 s/)?.[1]);
    expect(skew).toBeGreaterThanOrEqual(1000);
    expect(skew).toBeLessThanOrEqual(1003);
    expect(res.stdout).toContain('the signature itself matches: only the time is outside the window');
    expect(res.stdout).toContain('--now');

    // --now checks it at the time it was received; --tolerance widens the window.
    const atReceipt = await verify(headers, body, ['--now', String(Number(headers['webhook-timestamp']) + 5)]);
    expect(atReceipt.code).toBe(0);
    expect((await verify(headers, body, ['--tolerance', '2000'])).code).toBe(0);
  });

  it('timestamp too new: seconds in the future, and the clock hint', async () => {
    const { body, headers } = capture({ timestamp: nowSeconds() + 600 });
    const res = await verify(headers, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ timestamp too new');
    expect(res.stdout).toMatch(/is (59[89]|60\d) s in the future; the tolerance is 300 s/);
    expect(res.stdout).toContain('check the clocks');
  });

  it('a stale delivery with a wrong signature too: says both', async () => {
    const { body, headers } = capture({ timestamp: nowSeconds() - 1000, secret: OTHER_SECRET });
    const res = await verify(headers, body);
    expect(res.stdout).toContain('✗ timestamp too old');
    expect(res.stdout).toContain('the signature does not match either:');
    expect(res.stdout).toContain('✗ no v1 signature matches');
  });

  it('no v1 entry matches: counts the entries and names the likely cause', async () => {
    const { body, headers } = capture({ secret: OTHER_SECRET });
    const res = await verify(headers, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ no v1 signature matches');
    expect(res.stdout).toContain('webhook-signature has 1 entry: 1 v1 entry (1 well-formed)');
    expect(res.stdout).toContain('checked with 1 secret');
    expect(res.stdout).toContain("most likely the secret\n  is not this endpoint's signing secret");
  });

  it('several entries: counts v1 and other versions, and explains each malformed v1 entry', async () => {
    const { body, headers } = capture({ secret: OTHER_SECRET });
    const hex = 'a'.repeat(64);
    headers['webhook-signature'] =
      `v1a,${'A'.repeat(86)}== v1,${hex} v1,abcdefgh v1,abc_-def ${headers['webhook-signature']} v1`;
    const res = await verify(headers, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      'webhook-signature has 6 entries: 5 v1 entries (1 well-formed); 1 entry of other versions (v1a), skipped',
    );
    expect(res.stdout).toContain('entry 2: the signature is hex: Scalekit signatures are standard base64');
    expect(res.stdout).toContain(
      'entry 3: the signature is 8 characters long: the base64 of a 32-byte HMAC-SHA256 is 44',
    );
    expect(res.stdout).toContain('entry 4: the signature uses the base64url alphabet');
    expect(res.stdout).toContain('entry 6: "v1" without a comma and a signature');
    expect(res.stdout).not.toContain('entry 5:'); // well-formed (but wrong)
  });

  it('only malformed or other-version entries: no well-formed v1 signature', async () => {
    const { body, headers } = capture();
    headers['webhook-signature'] = headers['webhook-signature']!.replace(/=$/, '');
    const res = await verify(headers, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ no well-formed v1 signature');
    expect(res.stdout).toContain('the signature lacks its "=" padding');
  });

  it('re-serialised body (pretty-printed JSON): "the body is not raw", verify the raw bytes', async () => {
    const { body, headers } = capture();
    const res = await verify(headers, JSON.stringify(JSON.parse(body), null, 2));
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ the body is not raw: the signature matches the body re-serialised as compact JSON');
    expect(res.stdout).toContain(
      'the body was re-serialised or modified after it was received; verify the raw bytes as received',
    );
  });

  it('modified body (a trailing newline added by an editor): "the body is not raw"', async () => {
    const { body, headers } = capture();
    const res = await verify(headers, `${body}\n`);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      '✗ the body is not raw: the signature matches the body without its leading and trailing whitespace (trimmed)',
    );
  });

  it('a sender that used the whole secret string as the key: says so', async () => {
    const body = '{"a":1}';
    const { createHmac } = await import('node:crypto');
    const id = 'msg_1';
    const ts = nowSeconds();
    const signature = createHmac('sha256', Buffer.from(SECRET)).update(`${id}.${ts}.${body}`).digest('base64');
    const res = await verify(
      { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` },
      body,
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('the whole secret string is the HMAC key');
  });

  it('authentic but not a valid event: exit 1 with the problems (the module answers 400)', async () => {
    const { body, headers } = capture({ body: '{"type":"role.created"}' });
    const res = await verify(headers, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✓ signature valid');
    expect(res.stdout).toContain('✗ the body is not a valid Scalekit event (the module answers 400 invalid_payload):');
    expect(res.stdout).toContain('  - id is required');
  });

  it('invalid header values are reported as such', async () => {
    const { body, headers } = capture();
    const res = await verify({ ...headers, 'webhook-timestamp': '+1700000000' }, body);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✗ invalid header: webhook-timestamp must be whole Unix seconds');
  });

  it.each([
    [['verify', '--secret', SECRET], '--headers <file> is required'],
    [['verify', '--headers', 'h.json'], 'a signing secret is required'],
    [['verify', '--secret', SECRET, '--headers', 'nope.json'], 'cannot read --headers nope.json: no such file'],
    [['verify', '--secret', SECRET, '--headers', '@array'], 'must be a JSON object of header name → value'],
    [['verify', '--secret', SECRET, '--headers', '@badjson'], 'is not valid JSON'],
    [
      ['verify', '--secret', SECRET, '--headers', '@ok', '--tolerance', '-1'],
      "Option '--tolerance' argument is ambiguous",
    ],
    [['verify', '--secret', SECRET, '--headers', '@ok', '--tolerance=-1'], '--tolerance must be a whole number from 0'],
    [['verify', '--secret', SECRET, '--headers', '@ok', '--tolerance', 'abc'], '--tolerance must be a whole number'],
  ])('bad usage %j: exit 2', async (args, message) => {
    const named: Record<string, string> = { '@array': file('[1]'), '@badjson': file('{nope'), '@ok': file({}) };
    const res = await runCli(
      cli,
      args.map((a) => named[a] ?? a),
      { input: '{}' },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
  });

  it('--help: exit 0', async () => {
    const res = await runCli(cli, ['verify', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: scalekit-webhooks verify --secret <whsec_…> --headers <headers.json>');
  });
});

describe('list', () => {
  it('--json: the 41 types with object and data fields', async () => {
    const res = await runCli(cli, ['list', '--json']);
    expect(res.code).toBe(0);
    const entries = JSON.parse(res.stdout) as {
      type: string;
      object: string;
      fields: { name: string; required: boolean }[];
    }[];
    expect(entries).toHaveLength(41);
    expect(entries.map((e) => e.type)).toEqual([...SCALEKIT_EVENT_TYPES]);
    const user = entries.find((e) => e.type === 'organization.directory.user_created')!;
    expect(user.object).toBe('DirectoryUser');
    expect(user.fields).toEqual(expect.arrayContaining([{ name: 'id', type: 'string', required: true }]));
  });

  it('a table with type, object and fields; a pattern filters', async () => {
    const res = await runCli(cli, ['list']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^TYPE +OBJECT +DATA FIELDS \(\* required\)$/m);
    expect(res.stdout).toMatch(/^role\.created +Role +id\*, name\*, display_name, description, extends$/m);
    expect(res.stdout).toContain('41 event types');
    const directory = await runCli(cli, ['list', 'organization.directory.*', '--json']);
    expect(JSON.parse(directory.stdout)).toHaveLength(6);
  });

  it('colours only on a TTY or with FORCE_COLOR, never with NO_COLOR', async () => {
    expect((await runCli(cli, ['list'])).stdout).not.toContain('\u001b[');
    expect((await runCli(cli, ['list'], { env: { FORCE_COLOR: '1' } })).stdout).toContain('\u001b[36mrole.created');
    expect((await runCli(cli, ['list'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toContain('\u001b[');
  });

  it('bad usage: exit 2', async () => {
    const res = await runCli(cli, ['list', '--yaml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Unknown option '--yaml'");
  });
});
