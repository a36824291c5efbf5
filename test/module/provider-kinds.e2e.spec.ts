import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, Scope } from '@nestjs/common';
import { type AnyScalekitEvent, OnScalekitEvent, ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { PLATFORMS, startApp, type TestApp } from '../support/app.js';
import { eventOf, signed } from '../support/events.js';
import { send } from '../support/http.js';

// Handlers are discovered on the instance of every kind of provider: a class, `useClass`, `useFactory` and
// `useValue` (an instance created by the app itself), in providers and in controllers. An alias (`useExisting`)
// points to an instance already found, so its handlers run once, not twice.

const calls: string[] = [];

class ValueHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`value:${event.id}`);
  }
}

class UseClassHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`useClass:${event.id}`);
  }
}

class FactoryHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`factory:${event.id}`);
  }
}

@Injectable()
class ClassHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`class:${event.id}`);
  }
}

@Controller('unrelated')
class ControllerHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`controller:${event.id}`);
  }
}

class AsyncFactoryHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`asyncFactory:${event.id}`);
  }
}

class ScopedValueHandlers {
  @OnScalekitEvent('organization.created')
  onOrg(event: AnyScalekitEvent) {
    calls.push(`otherModuleValue:${event.id}`);
  }
}

@Module({
  providers: [{ provide: 'OTHER_MODULE_VALUE', useValue: new ScopedValueHandlers() }],
})
class OtherModule {}

const DIRECTORY_SYNC = Symbol('DIRECTORY_SYNC');
const SHARED = new ValueHandlers();

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) {
    await apps.pop()!.close();
  }
  calls.length = 0;
});

describe.each(PLATFORMS)('handlers on every kind of provider (%s)', (platform) => {
  it('runs the handlers of class, useClass, useFactory and useValue providers and controllers, aliases once', async () => {
    const t = await startApp(platform, {
      imports: [ScalekitWebhookModule.forRoot({ secret: signedSecret() }), OtherModule],
      controllers: [ControllerHandlers],
      providers: [
        ClassHandlers,
        { provide: DIRECTORY_SYNC, useValue: SHARED },
        { provide: 'ALIAS_OF_VALUE', useExisting: DIRECTORY_SYNC },
        { provide: 'SAME_OBJECT_AGAIN', useValue: SHARED },
        { provide: 'USE_CLASS', useClass: UseClassHandlers },
        { provide: 'USE_FACTORY', useFactory: () => new FactoryHandlers() },
        { provide: 'ASYNC_FACTORY', useFactory: async () => new AsyncFactoryHandlers() },
        { provide: 'NOT_AN_OBJECT', useValue: 42 },
        { provide: 'NULL_VALUE', useValue: null },
        { provide: 'PLAIN_OBJECT', useValue: { onOrg: () => calls.push('plain') } },
        { provide: 'REQUEST_SCOPED', useClass: ClassHandlers, scope: Scope.REQUEST },
      ],
    });
    apps.push(t);
    const event = eventOf('organization.created');
    const s = signed(event);
    const response = await send(`${t.url}/webhooks/scalekit`, { body: s.rawBody, headers: s.headers });
    expect(response.status).toBe(200);
    expect(calls.sort()).toEqual(
      [
        `asyncFactory:${event.id}`,
        `class:${event.id}`,
        `class:${event.id}`, // the request-scoped `useClass` of the same class is a provider of its own
        `controller:${event.id}`,
        `factory:${event.id}`,
        `otherModuleValue:${event.id}`,
        `useClass:${event.id}`,
        `value:${event.id}`,
      ].sort(),
    );
    // One start-up line per provider with handlers, named after its class.
    const mapped = t.logger.matching(/^Mapped \{organization\.created\} -> /).map((l) => l.message);
    for (const name of [
      'ValueHandlers',
      'UseClassHandlers',
      'FactoryHandlers',
      'AsyncFactoryHandlers',
      'ClassHandlers',
      'ControllerHandlers',
      'ScopedValueHandlers',
    ]) {
      expect(mapped.filter((line) => line.startsWith(`Mapped {organization.created} -> ${name}.onOrg`))).toHaveLength(
        name === 'ClassHandlers' ? 2 : 1,
      );
    }
    expect(mapped.filter((line) => line.endsWith('(request-scoped)'))).toHaveLength(1);
  });
});

function signedSecret(): string {
  return 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
}
