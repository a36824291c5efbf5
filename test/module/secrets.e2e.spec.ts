import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type INestApplication, Injectable, Module, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  type AnyScalekitEvent,
  getScalekitVerifierToken,
  OnScalekitEvent,
  parseScalekitEventPayload,
  ScalekitWebhookError,
  ScalekitWebhookGuard,
  ScalekitWebhookModule,
  type ScalekitWebhookModuleOptions,
  type ScalekitWebhookVerifier,
} from 'nestjs-scalekit-webhooks';
import { ScalekitWebhookConfig } from '../../lib/scalekit-webhook.config.js';
import { CapturingLogger, type Platform, PLATFORMS } from '../support/app.js';
import { eventOf, nowSeconds, signed } from '../support/events.js';
import { type RawResponse, send } from '../support/http.js';

/*
 * Every log line (all levels, debug and verbose included), every response body, every start-up error and every
 * dump of the module's config written while this file runs is collected, and the last test checks that none of
 * them shows a configured secret or a sensitive payload value, not even a fragment of one.
 */

const randomSecret = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;
const SECRET_A = randomSecret(24); // 32 base64 characters, no padding
const SECRET_B = randomSecret(25); // ends with "=="
const SECRETS = [SECRET_A, SECRET_B];
/** Not configured anywhere: what an attacker signs with. */
const WRONG_SECRET = randomSecret(24);
/** Invalid secrets given at start-up: their text must not be echoed either. */
const BAD_SECRET_BASE = randomBytes(24).toString('base64');

const token = (label: string) => `${label}${randomBytes(12).toString('hex')}`;
const SENSITIVE = {
  txtRecordSecret: token('txt'),
  accessToken: token('acc'),
  refreshToken: token('ref'),
  clientSecret: token('cls'),
  nestedApiToken: token('nst'),
  camelClientSecret: token('cam'),
  arraySigningSecret: token('arr'),
};
const DOMAIN = `acme-${randomBytes(4).toString('hex')}.example`;
const IDENTIFIER = `Clark-${randomBytes(4).toString('hex')}`;

/** Every form in which a secret could leak: whole, without the prefix, without padding, decoded, url-safe. */
function secretForms(secret: string): string[] {
  const base64 = secret.replace(/^whsec_/, '');
  const key = Buffer.from(base64, 'base64');
  return [secret, base64, base64.replace(/=+$/, ''), key.toString('hex'), key.toString('base64url')];
}

const FORBIDDEN: string[] = [
  ...SECRETS.flatMap(secretForms),
  ...secretForms(WRONG_SECRET),
  BAD_SECRET_BASE,
  ...Object.values(SENSITIVE),
];

/** Forbidden values found in a text, whole or as any 8-character fragment. */
function leaks(text: string): string[] {
  const found = new Set<string>();
  for (const value of FORBIDDEN) {
    for (let i = 0; i + 8 <= value.length; i++) {
      if (text.includes(value.slice(i, i + 8))) {
        found.add(value);
        break;
      }
    }
  }
  return [...found];
}

/** Invalid JSON whose V8 parse error quotes the characters around the problem (the sensitive value). */
const INVALID_JSON_BODIES = [
  `{"data":{"txt_record_secret":${SENSITIVE.txtRecordSecret}}}`,
  `{"data":{"access_token":'${SENSITIVE.accessToken}'}}`,
];
const INVALID_JSON_CASES = [
  ['an unquoted txt_record_secret', INVALID_JSON_BODIES[0]!],
  ['a single-quoted access_token', INVALID_JSON_BODIES[1]!],
] as const;

const logger = new CapturingLogger();
const exposed: { where: string; text: string }[] = [];
function expose(where: string, text: string): void {
  exposed.push({ where, text });
}

function domainEvent(type = 'organization.domain_created'): Record<string, any> {
  const event = eventOf(type);
  event.data = { ...event.data, domain: DOMAIN, txt_record_secret: SENSITIVE.txtRecordSecret };
  return event;
}

function tokensEvent(type = 'connected_account.oauth_tokens_fetched'): Record<string, any> {
  const event = eventOf('connected_account.oauth_tokens_fetched', { type });
  event.data = {
    ...event.data,
    identifier: IDENTIFIER,
    access_token: SENSITIVE.accessToken,
    refresh_token: SENSITIVE.refreshToken,
    client_secret: SENSITIVE.clientSecret,
    credentials: { api_token: SENSITIVE.nestedApiToken, scope: 'read' },
    clientSecret: SENSITIVE.camelClientSecret,
    keys: [{ signing_secret: SENSITIVE.arraySigningSecret, kid: 'k1' }],
  };
  return event;
}

@Injectable()
class SecretHandlers {
  readonly seen: AnyScalekitEvent[] = [];

  @OnScalekitEvent(['organization.domain_created', 'organization.domain_dns_verification_success'])
  domain(event: AnyScalekitEvent) {
    this.seen.push(event);
  }

  @OnScalekitEvent('connected_account.oauth_tokens_fetched')
  tokens(event: AnyScalekitEvent) {
    this.seen.push(event);
  }

  @OnScalekitEvent('organization.domain_deleted')
  failing() {
    throw new Error('domain sync is down');
  }

  @OnScalekitEvent('*')
  audit() {}
}

async function boot(
  platform: Platform,
  metadata: ModuleMetadata,
  options: { rawBody?: boolean } = {},
): Promise<INestApplication> {
  @Module(metadata)
  class SecretsAppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(SecretsAppModule, adapter, {
    rawBody: options.rawBody ?? true,
    logger,
    abortOnError: false,
  });
  app.useLogger(logger);
  await app.listen(0, '127.0.0.1');
  return app;
}

const urlOf = (app: INestApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;

describe.each(PLATFORMS)('secrets and sensitive data (%s)', (platform) => {
  let app: INestApplication;
  let endpoint: string;

  beforeAll(async () => {
    app = await boot(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: SECRETS, maxBodyBytes: 64 * 1024 })],
      providers: [SecretHandlers],
    });
    endpoint = `${urlOf(app)}/webhooks/scalekit`;
  });
  afterAll(() => app.close());

  async function post(
    where: string,
    body: string | Buffer,
    headers: Record<string, string | string[]>,
    method = 'POST',
  ): Promise<RawResponse> {
    const res = await send(endpoint, { method, body, headers });
    expose(`${platform} ${where}: response`, `${res.status} ${JSON.stringify(res.headers)} ${res.text}`);
    expect(leaks(res.text)).toEqual([]);
    return res;
  }
  const deliver = (where: string, payload: unknown, options: Parameters<typeof signed>[1] = {}) => {
    const s = signed(payload, { secret: SECRET_A, ...options });
    return post(where, s.rawBody, s.headers);
  };

  it('successes: events carrying txt_record_secret, tokens and client secrets are verified and routed', async () => {
    expect((await deliver('domain', domainEvent())).status).toBe(200);
    expect((await deliver('domain verified', domainEvent('organization.domain_dns_verification_success'))).status).toBe(
      200,
    );
    expect((await deliver('tokens', tokensEvent())).status).toBe(200);
    expect((await deliver('signed with the second secret', tokensEvent(), { secret: SECRET_B })).status).toBe(200);
    expect((await deliver('unknown type', tokensEvent('connected_account.brand_new_type'))).status).toBe(200);
    expect((await deliver('unhandled type', tokensEvent('connected_account.status_updated'))).status).toBe(200);
    const handlers = app.get(SecretHandlers);
    // The handlers themselves get the values unredacted: redaction is for logs only.
    expect(handlers.seen.map((e) => (e.data as any).txt_record_secret ?? (e.data as any).access_token)).toContain(
      SENSITIVE.txtRecordSecret,
    );
    expect(handlers.seen.map((e) => (e.data as any).access_token)).toContain(SENSITIVE.accessToken);
  });

  it('a retry of a processed event (idempotency) is acknowledged without leaking', async () => {
    const event = tokensEvent();
    expect((await deliver('first copy', event)).status).toBe(200);
    expect((await deliver('second copy', event)).status).toBe(200);
  });

  it('handler failures: 500, logged without payload values', async () => {
    const event = domainEvent('organization.domain_deleted');
    const res = await deliver('failing handler', event);
    expect(res.status).toBe(500);
    expect(logger.matching(new RegExp(`SecretHandlers\\.failing failed for event ${event.id}`))).toHaveLength(1);
  });

  it('every verification failure: wrong secret, stale or future timestamp, headers missing, duplicated or malformed', async () => {
    const body = JSON.stringify(domainEvent());
    const s = signed(body, { secret: SECRET_A });
    const statuses = [
      (await deliver('wrong secret', tokensEvent(), { secret: WRONG_SECRET })).status,
      (await deliver('too old', tokensEvent(), { timestamp: nowSeconds() - 3600 })).status,
      (await deliver('too new', tokensEvent(), { timestamp: nowSeconds() + 3600 })).status,
      (
        await post('signature changed', s.rawBody, {
          ...s.headers,
          'webhook-signature': `v1,${Buffer.alloc(32, 7).toString('base64')}`,
        })
      ).status,
      (await post('body changed', body.replace(DOMAIN, 'evil.example'), s.headers)).status,
      (await post('missing headers', s.rawBody, { 'content-type': 'application/json' })).status,
      (await post('duplicated id', s.rawBody, { ...s.headers, 'webhook-id': [s.headers['webhook-id'], 'msg_x'] }))
        .status,
      (await post('bad timestamp', s.rawBody, { ...s.headers, 'webhook-timestamp': 'soon' })).status,
      (await post('not JSON content type', s.rawBody, { ...s.headers, 'content-type': 'text/plain' })).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 401, 401, 400, 400, 400, 415]);
    expect(logger.matching(/Rejected delivery/).length).toBeGreaterThanOrEqual(8);
  });

  it('payload failures after verification: invalid envelope, wrong kinds, too large', async () => {
    const { id: _id, ...noId } = domainEvent();
    expect((await deliver('no id', noId)).status).toBe(400);
    const wrongKinds = { ...tokensEvent(), type: 42, data: `txt_record_secret=${SENSITIVE.txtRecordSecret}` };
    expect((await deliver('wrong kinds', wrongKinds)).status).toBe(400);
    expect((await deliver('array body', [tokensEvent()])).status).toBe(400);
    const big = tokensEvent();
    big.data = { ...big.data, filler: 'x'.repeat(70 * 1024) };
    expect((await deliver('too large', big)).status).toBe(413);
    expect((await post('GET', '', {}, 'GET')).status).toBe(404);
  });

  it('invalid JSON over HTTP: 400 before any handler, and nothing logged with the payload', async () => {
    const handlers = app.get(SecretHandlers);
    const before = handlers.seen.length;
    for (const body of INVALID_JSON_BODIES) {
      const s = signed(body, { secret: SECRET_A });
      const res = await send(endpoint, { body: s.rawBody, headers: s.headers });
      expect(res.status).toBe(400);
      if (platform === 'fastify') {
        expect(leaks(res.text)).toEqual([]);
      }
      // On Express the 400 comes from body-parser, before routing: Nest's default handler answers with the parser's
      // message, in which V8 quotes ~10 characters of the input back to the sender. The module never sees that
      // request (same as the "known limit" in hostile-host.e2e.spec.ts), so that body is not collected here.
    }
    expect(handlers.seen.length).toBe(before);
  });

  it('an app created without rawBody: 500 raw_body_missing, no leak', async () => {
    const bare = await boot(
      platform,
      { imports: [ScalekitWebhookModule.forRoot({ secret: SECRET_A })] },
      { rawBody: false },
    );
    try {
      const s = signed(tokensEvent(), { secret: SECRET_A });
      const res = await send(`${urlOf(bare)}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
      expose(`${platform} raw body missing: response`, res.text);
      expect(res.status).toBe(500);
      expect(leaks(res.text)).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it('debug logging of payloads: a line per event, sensitive fields redacted, the rest readable', async () => {
    const domain = domainEvent();
    const tokens = tokensEvent();
    expect((await deliver('debug domain', domain)).status).toBe(200);
    expect((await deliver('debug tokens', tokens)).status).toBe(200);

    const domainLines = logger.lines.filter((l) => l.level === 'debug' && l.message.includes(domain.id));
    expect(domainLines.length).toBeGreaterThanOrEqual(1); // (a) the payload is logged at debug level
    const domainLine = domainLines.map((l) => l.message).join('\n');
    expect(leaks(domainLine)).toEqual([]); // (b) without txt_record_secret's value
    expect(domainLine).toContain(DOMAIN); // (c) non-sensitive values stay readable
    expect(domainLine).toContain('organization.domain_created');

    const tokenLines = logger.lines.filter((l) => l.level === 'debug' && l.message.includes(tokens.id));
    expect(tokenLines.length).toBeGreaterThanOrEqual(1);
    const tokenLine = tokenLines.map((l) => l.message).join('\n');
    expect(leaks(tokenLine)).toEqual([]);
    expect(tokenLine).toContain(IDENTIFIER);
    expect(tokenLine).toContain('"scope":"read"');
    expect(tokenLine).toContain('"kid":"k1"');
  });

  it('the config, the guard and the verifier never show a secret (JSON.stringify, util.inspect, String)', () => {
    const config = app.get(ScalekitWebhookConfig);
    const guard = app.get(ScalekitWebhookGuard);
    const verifier = app.get<ScalekitWebhookVerifier>(getScalekitVerifierToken());
    const dumps = {
      'JSON.stringify(config)': JSON.stringify(config),
      'inspect(config)': inspect(config, { depth: Infinity, showHidden: true, getters: true }),
      'inspect(verifier)': inspect(verifier, { depth: Infinity, showHidden: true, getters: true }),
      'JSON.stringify(verifier)': JSON.stringify(verifier) ?? '',
      'String(config)': String(config),
      'template(config)': `${config as unknown as string}`,
      'inspect(guard)': inspect(guard, { depth: 6, showHidden: true }),
      'Object.entries(config)': JSON.stringify(Object.entries(config).map(([k, v]) => [k, inspect(v, { depth: 4 })])),
    };
    for (const [where, text] of Object.entries(dumps)) {
      expose(`${platform} ${where}`, text);
      expect({ where, leaks: leaks(text) }).toEqual({ where, leaks: [] });
    }
    expect(JSON.parse(JSON.stringify(config)).secret).toBe('[hidden]');
  });
});

describe('start-up failures never show a secret', () => {
  const cases: [string, unknown][] = [
    ['a secret that is not base64', { secret: `whsec_${BAD_SECRET_BASE}!` }],
    ['a secret with too much padding', { secret: `whsec_${BAD_SECRET_BASE}===` }],
    ['one bad secret in a rotation list', { secret: [SECRET_A, `whsec_${BAD_SECRET_BASE}#`] }],
    ['a secret given as an object', { secret: { value: SECRET_A } }],
    ['a secret given as a Buffer', { secret: Buffer.from(SECRET_A) }],
    ['a valid secret with a bad tolerance', { secret: SECRET_A, toleranceSeconds: -1 }],
    ['a valid secret with a bad body limit', { secret: [SECRET_A, SECRET_B], maxBodyBytes: 'big' }],
  ];

  it.each(PLATFORMS.flatMap((platform) => cases.map(([name, options]) => [platform, name, options] as const)))(
    '%s: %s',
    async (platform, _name, options) => {
      let failure: unknown;
      try {
        const app = await boot(platform, {
          imports: [ScalekitWebhookModule.forRoot(options as ScalekitWebhookModuleOptions)],
        });
        await app.close();
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(Error);
      const error = failure as Error;
      const dumps = [
        error.message,
        String(error.stack),
        JSON.stringify(error),
        inspect(error, { depth: Infinity, showHidden: true }),
      ];
      for (const text of dumps) {
        expose(`start-up ${platform} ${_name}`, text);
        expect(leaks(text)).toEqual([]);
      }
    },
  );

  it('forRootAsync: a factory returning a bad secret', async () => {
    let failure: unknown;
    try {
      const app = await boot('express', {
        imports: [ScalekitWebhookModule.forRootAsync({ useFactory: async () => ({ secret: `${BAD_SECRET_BASE}%` }) })],
      });
      await app.close();
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(Error);
    const text = inspect(failure, { depth: Infinity, showHidden: true });
    expose('start-up forRootAsync', text);
    expect(leaks(text)).toEqual([]);
  });
});

describe('the JSON error of the core parser', () => {
  // Checked here rather than in the final sweep, so that a failure names the culprit once.
  it.each(INVALID_JSON_CASES)('carries no excerpt of the body: %s', (_name, body) => {
    let failure: unknown;
    try {
      parseScalekitEventPayload(Buffer.from(body));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ScalekitWebhookError);
    const error = failure as ScalekitWebhookError;
    expect(error.code).toBe('invalid_json');
    const text = [error.message, JSON.stringify(error.toResponseBody()), inspect(error, { depth: 3 })].join('\n');
    expect(leaks(text)).toEqual([]);
  });
});

describe('everything captured in this file', () => {
  it('was captured at every level, including debug', () => {
    const levels = new Set(logger.lines.map((l) => l.level));
    for (const level of ['log', 'warn', 'error', 'debug']) {
      expect({ level, present: levels.has(level) }).toEqual({ level, present: true });
    }
    expect(exposed.length).toBeGreaterThan(40);
  });

  it('no log line shows a secret or a sensitive payload value', () => {
    const offending = logger.lines
      .map((line) => ({
        line: `${line.level} ${line.context ?? ''} ${line.message}`.slice(0, 300),
        leaks: leaks(line.message),
      }))
      .filter((entry) => entry.leaks.length > 0);
    expect(offending).toEqual([]);
  });

  it('no response body, error or config dump shows one', () => {
    const offending = exposed.filter(({ text }) => leaks(text).length > 0).map(({ where }) => where);
    expect(offending).toEqual([]);
  });
});
