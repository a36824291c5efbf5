import 'reflect-metadata';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from '@jest/globals';
import { ScalekitInterceptorDecision } from '../../lib/core/interceptors/index.js';
import {
  OnScalekitInterceptor,
  SCALEKIT_INTERCEPTOR_HANDLER_METADATA,
  type ScalekitInterceptorHandlerMetadata,
} from '../../lib/decorators/on-scalekit-interceptor.decorator.js';
import { SCALEKIT_EVENT_HANDLER_METADATA } from '../../lib/scalekit-webhook.constants.js';

class Handlers {
  @OnScalekitInterceptor('PRE_SIGNUP')
  signup() {
    return ScalekitInterceptorDecision.allow();
  }

  @OnScalekitInterceptor('PRE_SIGNUP')
  @OnScalekitInterceptor('PRE_USER_INVITATION')
  @OnScalekitInterceptor('PRE_SIGNUP')
  stacked() {
    return ScalekitInterceptorDecision.deny();
  }

  @OnScalekitInterceptor('*')
  everything() {
    return ScalekitInterceptorDecision.deny();
  }

  @OnScalekitInterceptor('POST_USER_AUTHENTICATION')
  unknown() {
    return ScalekitInterceptorDecision.allow();
  }

  plain() {
    return undefined;
  }
}

function metadata(method: () => unknown): ScalekitInterceptorHandlerMetadata | undefined {
  return new Reflector().get(SCALEKIT_INTERCEPTOR_HANDLER_METADATA, method);
}

describe('@OnScalekitInterceptor', () => {
  it('stores the trigger on the method, readable through Reflector', () => {
    expect(metadata(Handlers.prototype.signup)).toEqual({ triggers: ['PRE_SIGNUP'] });
    expect(metadata(Handlers.prototype.everything)).toEqual({ triggers: ['*'] });
    expect(metadata(Handlers.prototype.unknown)).toEqual({ triggers: ['POST_USER_AUTHENTICATION'] });
    expect(metadata(Handlers.prototype.plain)).toBeUndefined();
  });

  it('stacks, in application order (bottom-up), without repeating a trigger', () => {
    expect(metadata(Handlers.prototype.stacked)).toEqual({ triggers: ['PRE_SIGNUP', 'PRE_USER_INVITATION'] });
  });

  it('uses its own key, apart from @OnScalekitEvent, shared by every copy of the package', () => {
    expect(typeof SCALEKIT_INTERCEPTOR_HANDLER_METADATA).toBe('symbol');
    expect(SCALEKIT_INTERCEPTOR_HANDLER_METADATA).toBe(Symbol.for('nestjs-scalekit-webhooks:interceptor-handler'));
    expect(Reflect.getMetadata(SCALEKIT_EVENT_HANDLER_METADATA, Handlers.prototype.signup)).toBeUndefined();
  });

  it('leaves the method itself unchanged', () => {
    expect(new Handlers().signup()).toEqual({ decision: 'ALLOW' });
  });

  it.each([
    ['pre_signup', " (did you mean 'PRE_SIGNUP'?)"],
    ['Pre_Session_Creation', " (did you mean 'PRE_SESSION_CREATION'?)"],
    ['PRE_SIGNUP ', " (did you mean 'PRE_SIGNUP'?)"],
    ['', ''],
    ['PRE-SIGNUP', ''],
    ['**', ''],
    ['PRE_*', ''],
    ['1_TRIGGER', ''],
  ])('refuses the trigger name %j where it is written', (trigger, hint) => {
    expect(() => OnScalekitInterceptor(trigger)).toThrow(
      new TypeError(
        `@OnScalekitInterceptor() needs a trigger point name like 'PRE_SIGNUP' (upper case, digits, underscores) or '*'${hint}`,
      ),
    );
  });

  it('refuses a trigger that is not a string (from untyped code)', () => {
    expect(() => OnScalekitInterceptor(undefined as unknown as string)).toThrow(TypeError);
    expect(() => OnScalekitInterceptor(['PRE_SIGNUP'] as unknown as string)).toThrow(TypeError);
  });
});
