#!/usr/bin/env bash
# Checks the package as consumers get it from npm: `npm run consumer-check`.
#
#   1. `npm pack` into a temp dir (the `prepack` script builds dist/ with `npm run build`), and check the tarball holds
#      both builds.
#   2. `attw` (Are the Types Wrong?) on the tarball, profile strict: node10 (TypeScript's `moduleResolution: node`),
#      node16 from CJS and ESM, and bundler.
#   3. A Nest 12 ESM app and a Nest 11 CommonJS app, each in a fresh temp folder with the tarball installed by path,
#      import the package BY NAME, boot on 127.0.0.1:0, receive a signed `organization.created` (200
#      {"received":true}, handler ran with the event id) and a tampered one (401), answer signed interceptor calls
#      (`ScalekitInterceptorModule` with an `@OnScalekitInterceptor('PRE_SIGNUP')` handler: 200 with the handler's
#      ALLOW or DENY) and a tampered one (401, handler not run), and type-check a small TypeScript
#      consumer with the project's tsc (module nodenext: the ESM app resolves the `import` types, the CJS app the
#      `require` types). The CommonJS app also installs TypeScript 5 (in the temp app, not the project) and compiles
#      the consumer as the Nest 10 starter does: module commonjs, moduleResolution node10, where `exports` is ignored
#      and subpaths such as `/testing` resolve through `typesVersions`.
#      Each app also loads `nestjs-scalekit-webhooks/core` and checks that it pulls in no
#      `@nestjs/*` module, and the ESM app runs .ci/check-public-api.mjs on the installed package: every name the
#      README's API reference lists is exported by each entry (ESM and CJS builds, runtime and .d.ts), and nothing else.
#
# Needs the npm registry (the apps install @nestjs/* 11 and 12). Exits 0 when everything passed, 1 otherwise.
# Temp folders are removed on exit. Set KEEP_TMP=1 to keep them for debugging.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_NAME="$(node -p "require('$ROOT/package.json').name")"
TSC="$ROOT/node_modules/.bin/tsc"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/consumer-check.XXXXXX")"

cleanup() {
  if [[ "${KEEP_TMP:-}" == "1" ]]; then
    echo "consumer-check: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

step() { printf '==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() {
  printf 'consumer-check: FAILED: %s\n' "$*" >&2
  exit 1
}
# Runs a command with its output in a log file; prints the log only when the command fails.
quiet() {
  local log="$1"
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------------------------
step "1/4 npm pack (prepack runs npm run build)"
mkdir -p "$WORK/pack"
(cd "$ROOT" && quiet "$WORK/pack.log" npm pack --pack-destination "$WORK/pack") || fail "npm pack failed (log above)"
shopt -s nullglob
tarballs=("$WORK"/pack/*.tgz)
shopt -u nullglob
[[ ${#tarballs[@]} -eq 1 ]] || fail "expected one tarball in $WORK/pack, found ${#tarballs[@]}"
TARBALL="${tarballs[0]}"
contents="$(tar -tzf "$TARBALL")"
for f in package/package.json package/dist/esm/index.js package/dist/esm/index.d.ts \
  package/dist/cjs/index.js package/dist/cjs/index.d.ts package/dist/cjs/package.json \
  package/dist/esm/core/public.js package/dist/esm/core/public.d.ts \
  package/dist/cjs/core/public.js package/dist/cjs/core/public.d.ts; do
  grep -qx "$f" <<<"$contents" || fail "the tarball lacks $f"
done
# dist/cjs/package.json must say commonjs: the root package.json says "type": "module".
tar -xzOf "$TARBALL" package/dist/cjs/package.json | node -e \
  'const p = JSON.parse(require("fs").readFileSync(0, "utf8")); if (p.type !== "commonjs") process.exit(1)' ||
  fail 'package/dist/cjs/package.json is not {"type":"commonjs"}'
ok "$(basename "$TARBALL") ($(grep -c . <<<"$contents") files, both dist/esm and dist/cjs)"

# ---------------------------------------------------------------------------------------------------------------------
step "2/4 attw --profile strict (are the types wrong?)"
# The tarball is passed directly (`--pack <dir>` would run npm pack, and so the build, a second time). attw finds
# every entry point from `exports` by itself, so a later `./testing` entry is checked without changing this line.
# Profile strict checks node10 (TypeScript's `moduleResolution: node`, which has no `exports` support: the Nest 10
# starter on TypeScript 5 uses it, and subpaths resolve there only through `typesVersions`), node16-from-CJS,
# node16-from-ESM and bundler. At the time of writing there is no problem to ignore: do not add `--ignore-rules` for
# `cjs-resolves-to-esm`/`false-esm`/`false-cjs`, which would hide the real dual-package bugs this step is here for.
# attw exits non-zero on any problem.
(cd "$ROOT" && npx --no-install attw "$TARBALL" --profile strict --no-color) || fail "attw found problems (table above)"
ok "attw: no problems"

# ---------------------------------------------------------------------------------------------------------------------
# The scenario both apps run. CommonJS, so the CJS app stays pure CommonJS; the ESM app imports it. The library and
# Nest are imported by each app's entry file (by package name) and handed in, so this file resolves nothing itself.
# Decorators are applied by hand: plain JS has no decorator syntax.
write_scenario() {
  cat >"$1/scenario.cjs" <<'EOF'
'use strict';
const assert = require('node:assert/strict');

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
// The interceptor's own secret (not the webhook endpoint's), as in the dashboard.
const INTERCEPTOR_SECRET = 'whsec_' + Buffer.from('consumer-check interceptor secret').toString('base64');

async function runScenario(label, m) {
  const { Inject, Injectable, Module, NestFactory, ScalekitWebhookModule, OnScalekitEvent, signScalekitWebhook } = m;
  const { ScalekitInterceptorModule, OnScalekitInterceptor, ScalekitInterceptorDecision, signScalekitInterceptor } = m;

  class CallLog {
    constructor() {
      this.calls = [];
    }
  }
  Injectable()(CallLog);

  class Handlers {
    constructor(log) {
      this.log = log;
    }
    onOrg(event, delivery) {
      this.log.calls.push({ id: event.id, type: event.type, name: event.data.display_name, webhookId: delivery.webhookId });
    }
  }
  Injectable()(Handlers);
  Inject(CallLog)(Handlers, undefined, 0);
  OnScalekitEvent('organization.created')(Handlers.prototype, 'onOrg', Object.getOwnPropertyDescriptor(Handlers.prototype, 'onOrg'));

  class SignupPolicy {
    constructor(log) {
      this.log = log;
    }
    preSignup(request, context) {
      this.log.calls.push({ trigger: request.trigger_point, interceptorId: context.interceptorId });
      return request.interceptor_context.user_email.endsWith('@blocked.example')
        ? ScalekitInterceptorDecision.deny('Sign-ups from this domain are not accepted', 'DOMAIN_BLOCKED')
        : ScalekitInterceptorDecision.allow();
    }
  }
  Injectable()(SignupPolicy);
  Inject(CallLog)(SignupPolicy, undefined, 0);
  OnScalekitInterceptor('PRE_SIGNUP')(SignupPolicy.prototype, 'preSignup', Object.getOwnPropertyDescriptor(SignupPolicy.prototype, 'preSignup'));

  class AppModule {}
  Module({
    imports: [ScalekitWebhookModule.forRoot({ secret: SECRET }), ScalekitInterceptorModule.forRoot({ secret: INTERCEPTOR_SECRET })],
    providers: [CallLog, Handlers, SignupPolicy],
  })(AppModule);

  const app = await NestFactory.create(AppModule, { rawBody: true, logger: false });
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address();
    const url = `http://127.0.0.1:${port}/webhooks/scalekit`;
    const log = app.get(CallLog);

    const event = {
      spec_version: '1',
      id: `evt_consumer_${label}_${Date.now()}`,
      type: 'organization.created',
      object: 'Organization',
      occurred_at: new Date().toISOString(),
      environment_id: 'env_1',
      organization_id: 'org_1',
      data: { id: 'org_1', display_name: 'Acme' },
    };
    const signed = signScalekitWebhook({ secret: SECRET, payload: event });

    const res = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
    const text = await res.text();
    assert.equal(res.status, 200, `signed delivery: expected 200, got ${res.status} ${text}`);
    assert.deepEqual(JSON.parse(text), { received: true }, `signed delivery: unexpected body ${text}`);
    assert.equal(log.calls.length, 1, `the handler ran ${log.calls.length} times, expected once`);
    assert.deepEqual(log.calls[0], { id: event.id, type: event.type, name: 'Acme', webhookId: signed.headers['webhook-id'] });

    // Same body and headers, one character of the signature changed.
    const sig = signed.headers['webhook-signature'];
    const tampered = `v1,${sig[3] === 'A' ? 'B' : 'A'}${sig.slice(4)}`;
    const bad = await fetch(url, { method: 'POST', headers: { ...signed.headers, 'webhook-signature': tampered }, body: signed.body });
    const badText = await bad.text();
    assert.equal(bad.status, 401, `tampered signature: expected 401, got ${bad.status} ${badText}`);
    assert.equal(log.calls.length, 1, 'the handler ran for a tampered delivery');

    // Interceptors: a signed PRE_SIGNUP call gets the handler's decision; a tampered one 401, without the handler.
    const interceptorUrl = `http://127.0.0.1:${port}/scalekit/interceptors`;
    const call = (email) => ({
      display_name: 'Validate email domain',
      trigger_point: 'PRE_SIGNUP',
      interceptor_context: { environment_id: 'env_1', user_email: email },
      data: {},
    });
    const decisions = [];
    for (const [email, expected] of [
      ['ada@example.com', { decision: 'ALLOW' }],
      ['eve@blocked.example', { decision: 'DENY', error: { message: 'Sign-ups from this domain are not accepted', code: 'DOMAIN_BLOCKED' } }],
    ]) {
      const signedCall = signScalekitInterceptor({ secret: INTERCEPTOR_SECRET, payload: call(email) });
      const answer = await fetch(interceptorUrl, { method: 'POST', headers: signedCall.headers, body: signedCall.body });
      const answerText = await answer.text();
      assert.equal(answer.status, 200, `signed interceptor call: expected 200, got ${answer.status} ${answerText}`);
      assert.deepEqual(JSON.parse(answerText), expected, `signed interceptor call for ${email}: unexpected answer ${answerText}`);
      assert.deepEqual(log.calls[log.calls.length - 1], { trigger: 'PRE_SIGNUP', interceptorId: signedCall.headers['interceptor-id'] });
      decisions.push(expected.decision);
    }
    const callsBefore = log.calls.length;
    const signedCall = signScalekitInterceptor({ secret: INTERCEPTOR_SECRET, payload: call('ada@example.com') });
    const tamperedBody = signedCall.body.replace('ada@example.com', 'ada@example.org');
    const refused = await fetch(interceptorUrl, { method: 'POST', headers: signedCall.headers, body: tamperedBody });
    const refusedText = await refused.text();
    assert.equal(refused.status, 401, `tampered interceptor call: expected 401, got ${refused.status} ${refusedText}`);
    assert.equal(log.calls.length, callsBefore, 'the interceptor handler ran for a tampered call');
    // A webhook delivery is no interceptor call, and the webhook secret is not the interceptor's.
    const wrongSecret = signScalekitInterceptor({ secret: SECRET, payload: call('ada@example.com') });
    const wrong = await fetch(interceptorUrl, { method: 'POST', headers: wrongSecret.headers, body: wrongSecret.body });
    assert.equal(wrong.status, 401, `interceptor call signed with the webhook secret: expected 401, got ${wrong.status}`);
    assert.equal(log.calls.length, callsBefore, 'the interceptor handler ran for a call signed with the wrong secret');
  } finally {
    await app.close();
  }
}

function report(label, promise) {
  promise.then(
    () => {
      console.log(
        `    ok: ${label}: 200 {"received":true}, handler ran with the event id, tampered signature 401; ` +
          'interceptor PRE_SIGNUP 200 ALLOW and 200 DENY from the handler, tampered body 401, wrong secret 401',
      );
      process.exit(0);
    },
    (error) => {
      console.error(`consumer-check: FAILED in the ${label} app: ${error && error.stack ? error.stack : error}`);
      process.exit(1);
    },
  );
}

module.exports = { runScenario, report };
EOF
}

# A TypeScript consumer, type-checked (not run) with the project's tsc under module/moduleResolution nodenext: in the
# ESM app (`"type": "module"`) it resolves the package's `import` types, in the CJS app its `require` types.
# The package's own .d.ts files are checked too (skipLibCheck is off for them, see --skipLibCheck below): they must
# not need an optional peer (ioredis, bullmq) that these apps do not install.
write_types_check() {
  cat >"$1/types-check.ts" <<'EOF'
import { Injectable, Module } from '@nestjs/common';
import {
  OnScalekitEvent,
  type ScalekitDelivery,
  type ScalekitEvent,
  ScalekitWebhookModule,
  signScalekitWebhook,
} from 'nestjs-scalekit-webhooks';
import { buildScalekitEvent, sendScalekitWebhook } from 'nestjs-scalekit-webhooks/testing';
import { diagnoseScalekitDelivery, type ScalekitFinding, verifyScalekitWebhook } from 'nestjs-scalekit-webhooks/core';
import {
  OnScalekitInterceptor,
  ScalekitInterceptorDecision,
  ScalekitInterceptorModule,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorResponse,
} from 'nestjs-scalekit-webhooks';
import { buildScalekitInterceptorRequest, sendScalekitInterceptor } from 'nestjs-scalekit-webhooks/testing';

@Injectable()
export class Handlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: ScalekitEvent<'organization.created'>, delivery: ScalekitDelivery): string {
    const type: 'organization.created' = event.type;
    const name: string = event.data.display_name;
    return `${type} ${name} ${delivery.webhookId}`;
  }
}

@Module({ imports: [ScalekitWebhookModule.forRoot({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })], providers: [Handlers] })
export class AppModule {}

const signed = signScalekitWebhook({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', payload: {} });
export const headers: Record<string, string> = signed.headers;
export const raw: Buffer = signed.rawBody;
// @ts-expect-error: the secret is required
signScalekitWebhook({ payload: {} });
const built = buildScalekitEvent('organization.directory.user_created', { data: { email: 'a@example.com' } });
export const email: string | null | undefined = built.data.email;
export const send: typeof sendScalekitWebhook = sendScalekitWebhook;
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const webhookId: string = verifyScalekitWebhook({ secret, payload: signed.rawBody, headers }).webhookId;
export const findings: readonly ScalekitFinding[] = diagnoseScalekitDelivery({ secret, payload: '{}', headers }).findings;

@Injectable()
export class SignupPolicy {
  @OnScalekitInterceptor('PRE_SIGNUP')
  preSignup(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    const email: string | undefined = request.interceptor_context.user_email;
    return email?.endsWith('@blocked.example') ? ScalekitInterceptorDecision.deny('No', 'BLOCKED') : ScalekitInterceptorDecision.allow();
  }
}
@Module({ imports: [ScalekitInterceptorModule.forRoot({ secret })], providers: [SignupPolicy] })
export class InterceptorModule {}
export const interceptorRequest = buildScalekitInterceptorRequest('PRE_SIGNUP');
export const intercept: typeof sendScalekitInterceptor = sendScalekitInterceptor;
EOF
}

# $1 app dir, $2 label, $3 entry file: installs, runs the entry file, type-checks.
install_run_check() {
  local dir="$1" label="$2" entry="$3"
  (cd "$dir" && quiet "$dir/npm-install.log" npm install --no-audit --no-fund --loglevel=error) ||
    fail "$label: npm install failed (log above)"
  ok "$label: installed @nestjs/core $(node -p "require('$dir/node_modules/@nestjs/core/package.json').version") and $(basename "$TARBALL")"
  (cd "$dir" && node "$entry") || fail "$label: the app did not pass (message above)"
  (cd "$dir" && "$TSC" --noEmit --strict --target es2022 --lib es2022 --module nodenext --moduleResolution nodenext \
    --experimentalDecorators --emitDecoratorMetadata --types node --skipLibCheck false types-check.ts) ||
    fail "$label: types-check.ts does not type-check against the installed package (errors above)"
  ok "$label: types-check.ts type-checks"
  if [[ "${4:-}" == "api" ]]; then
    node "$ROOT/.ci/check-public-api.mjs" "$dir/node_modules/$PKG_NAME" "$ROOT/README.md" ||
      fail "$label: the package's exports differ from the README's API reference (list above)"
  fi
  local types
  types=$(cd "$dir" && ./node_modules/.bin/scalekit-webhooks list --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log((Array.isArray(j)?j:j.types).length)})') ||
    fail "$label: the scalekit-webhooks CLI did not run from the installed package"
  ok "$label: scalekit-webhooks CLI (bin) runs: list --json gives $types event types"
}

# ---------------------------------------------------------------------------------------------------------------------
step "3/4 Nest 12 ESM consumer (\"type\": \"module\", import by name)"
ESM_APP="$(mktemp -d "$WORK/esm-nest12.XXXXXX")"
cat >"$ESM_APP/package.json" <<EOF
{
  "name": "consumer-esm-nest12",
  "private": true,
  "type": "module",
  "dependencies": {
    "@nestjs/common": "^12.0.0",
    "@nestjs/core": "^12.0.0",
    "@nestjs/platform-express": "^12.0.0",
    "@nestjs/terminus": "^12.0.0",
    "@types/node": "^20.19.0",
    "class-transformer": "^0.5.1",
    "class-validator": "^0.15.0",
    "reflect-metadata": "^0.2.2",
    "rxjs": "^7.8.0",
    "$PKG_NAME": "file:$TARBALL"
  }
}
EOF
cat >"$ESM_APP/main.mjs" <<'EOF'
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OnScalekitEvent, ScalekitWebhookModule, signScalekitWebhook } from 'nestjs-scalekit-webhooks';
import { OnScalekitInterceptor, ScalekitInterceptorDecision, ScalekitInterceptorModule } from 'nestjs-scalekit-webhooks';
import { buildScalekitEvent, sendScalekitWebhook, signScalekitInterceptor } from 'nestjs-scalekit-webhooks/testing';
import { report, runScenario } from './scenario.cjs';

const label = 'Nest 12 ESM';
const check = async () => {
  const resolved = fileURLToPath(import.meta.resolve('nestjs-scalekit-webhooks'));
  if (!resolved.includes('/dist/esm/')) throw new Error(`import resolved to ${resolved}, expected dist/esm`);
  const dynamic = await import('nestjs-scalekit-webhooks');
  if (dynamic.ScalekitWebhookModule !== ScalekitWebhookModule) throw new Error('import() gave another module instance');
  const pkg = createRequire(import.meta.url)('nestjs-scalekit-webhooks/package.json');
  if (pkg.name !== 'nestjs-scalekit-webhooks') throw new Error('nestjs-scalekit-webhooks/package.json did not load');
  const testingPath = fileURLToPath(import.meta.resolve('nestjs-scalekit-webhooks/testing'));
  if (!testingPath.includes('/dist/esm/')) throw new Error(`testing resolved to ${testingPath}, expected dist/esm`);
  if (typeof sendScalekitWebhook !== 'function') throw new Error('sendScalekitWebhook is missing');
  if (buildScalekitEvent('organization.created').type !== 'organization.created') throw new Error('buildScalekitEvent failed');
  // The Nest-free entry works from ESM.
  const core = await import('nestjs-scalekit-webhooks/core');
  const probeSigned = core.signScalekitWebhook({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', payload: '{}' });
  const verified = core.verifyScalekitWebhook({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', payload: probeSigned.rawBody, headers: probeSigned.headers });
  if (verified.webhookId !== probeSigned.headers['webhook-id']) throw new Error('nestjs-scalekit-webhooks/core did not verify');
  await runScenario('esm', {
    Inject, Injectable, Module, NestFactory, ScalekitWebhookModule, OnScalekitEvent, signScalekitWebhook,
    ScalekitInterceptorModule, OnScalekitInterceptor, ScalekitInterceptorDecision, signScalekitInterceptor,
  });
};
report(label, check());
EOF
write_scenario "$ESM_APP"
write_types_check "$ESM_APP"
install_run_check "$ESM_APP" "Nest 12 ESM" main.mjs api

# ---------------------------------------------------------------------------------------------------------------------
step "4/4 Nest 11 CommonJS consumer (no \"type\", require by name)"
CJS_APP="$(mktemp -d "$WORK/cjs-nest11.XXXXXX")"
cat >"$CJS_APP/package.json" <<EOF
{
  "name": "consumer-cjs-nest11",
  "private": true,
  "dependencies": {
    "@nestjs/common": "^11.0.0",
    "@nestjs/core": "^11.0.0",
    "@nestjs/platform-express": "^11.0.0",
    "@nestjs/terminus": "^11.0.0",
    "@types/node": "^20.19.0",
    "class-transformer": "^0.5.1",
    "class-validator": "^0.14.0",
    "reflect-metadata": "^0.2.2",
    "rxjs": "^7.8.0",
    "typescript": "^5.0.0",
    "$PKG_NAME": "file:$TARBALL"
  }
}
EOF
cat >"$CJS_APP/main.js" <<'EOF'
'use strict';
require('reflect-metadata');
const { Inject, Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { OnScalekitEvent, ScalekitWebhookModule, signScalekitWebhook } = require('nestjs-scalekit-webhooks');
const { OnScalekitInterceptor, ScalekitInterceptorDecision, ScalekitInterceptorModule } = require('nestjs-scalekit-webhooks');
const testing = require('nestjs-scalekit-webhooks/testing');
const { report, runScenario } = require('./scenario.cjs');

const label = 'Nest 11 CommonJS';
const check = async () => {
  const resolved = require.resolve('nestjs-scalekit-webhooks');
  if (!resolved.includes('/dist/cjs/')) throw new Error(`require resolved to ${resolved}, expected dist/cjs`);
  const pkg = require('nestjs-scalekit-webhooks/package.json');
  if (pkg.name !== 'nestjs-scalekit-webhooks') throw new Error('nestjs-scalekit-webhooks/package.json did not load');
  if (typeof ScalekitWebhookModule.forRoot !== 'function') throw new Error('ScalekitWebhookModule.forRoot is missing');
  const testingPath = require.resolve('nestjs-scalekit-webhooks/testing');
  if (!testingPath.includes('/dist/cjs/')) throw new Error(`testing resolved to ${testingPath}, expected dist/cjs`);
  if (testing.buildScalekitEvent('user.login').type !== 'user.login') throw new Error('buildScalekitEvent failed');
  // The Nest-free entry, in a fresh process where any @nestjs/* require throws.
  const probe = `
    const Module = require('node:module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request.startsWith('@nestjs/')) throw new Error('nestjs-scalekit-webhooks/core requires ' + request);
      return resolve.call(this, request, ...rest);
    };
    const core = require('nestjs-scalekit-webhooks/core');
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signed = core.signScalekitWebhook({ secret, payload: '{}' });
    core.verifyScalekitWebhook({ secret, payload: signed.rawBody, headers: signed.headers });
    const diagnosis = core.diagnoseScalekitDelivery({ secret, payload: signed.rawBody, headers: signed.headers });
    if (diagnosis.findings[0].code !== 'signature_valid') throw new Error('unexpected diagnosis');`;
  require('node:child_process').execFileSync(process.execPath, ['-e', probe], { stdio: 'inherit' });
  await runScenario('cjs', {
    Inject, Injectable, Module, NestFactory, ScalekitWebhookModule, OnScalekitEvent, signScalekitWebhook,
    ScalekitInterceptorModule, OnScalekitInterceptor, ScalekitInterceptorDecision,
    signScalekitInterceptor: testing.signScalekitInterceptor,
  });
};
report(label, check());
EOF
write_scenario "$CJS_APP"
write_types_check "$CJS_APP"
install_run_check "$CJS_APP" "Nest 11 CommonJS" main.js
# The Nest 10 starter's resolution (module commonjs, no moduleResolution, so node10) with TypeScript 5, the compiler
# such apps use (TypeScript 6 deprecates node10). The app's own TypeScript 5, not the project's.
TS5_VERSION="$(node -p "require('$CJS_APP/node_modules/typescript/package.json').version")"
[[ "$TS5_VERSION" == 5.* ]] || fail "Nest 11 CommonJS: expected TypeScript 5.x in the app, found $TS5_VERSION"
(cd "$CJS_APP" && ./node_modules/.bin/tsc --noEmit --strict --target es2021 --lib es2022 --module commonjs \
  --moduleResolution node10 --experimentalDecorators --emitDecoratorMetadata --types node --skipLibCheck false \
  types-check.ts) ||
  fail "Nest 11 CommonJS: types-check.ts does not compile with TypeScript $TS5_VERSION, module commonjs, moduleResolution node10 (errors above)"
ok "Nest 11 CommonJS: types-check.ts (main entry and /testing) compiles with TypeScript $TS5_VERSION, moduleResolution node10"

echo "consumer-check: all passed"
