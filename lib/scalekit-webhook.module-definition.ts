import { ConfigurableModuleBuilder, type DynamicModule, type Provider } from '@nestjs/common';
import { DEFAULT_WEBHOOK_PATH } from './scalekit-webhook.constants.js';
import { ScalekitWebhookConfig } from './scalekit-webhook.config.js';
import { createScalekitWebhookController } from './scalekit-webhook.controller.js';
import type {
  ScalekitWebhookModuleExtras,
  ScalekitWebhookModuleOptions,
} from './interfaces/scalekit-webhook.interfaces.js';
import { scalekitRegistrationProviders } from './scalekit-webhook.providers.js';
import {
  getScalekitIdempotencyStoreToken,
  getScalekitQueueToken,
  getScalekitVerifierToken,
} from './scalekit-webhook.tokens.js';

/** Injection token of the options as given to `forRoot` / returned by the `forRootAsync` factory. */
export const SCALEKIT_WEBHOOK_MODULE_OPTIONS = 'SCALEKIT_WEBHOOK_MODULE_OPTIONS';

export const {
  ConfigurableModuleClass: ConfigurableScalekitWebhookModule,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ScalekitWebhookModuleOptions>({
  moduleName: 'ScalekitWebhook',
  optionsInjectionToken: SCALEKIT_WEBHOOK_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createScalekitWebhookOptions')
  .setExtras<ScalekitWebhookModuleExtras>(
    { path: DEFAULT_WEBHOOK_PATH, isGlobal: false, decorators: [], name: undefined, receiver: true },
    (definition, extras): DynamicModule => {
      const receiver = extras.receiver ?? true;
      return {
        ...definition,
        global: extras.isGlobal,
        // A worker-only registration (`receiver: false`) has no route at all.
        controllers: receiver
          ? [createScalekitWebhookController(extras.path ?? DEFAULT_WEBHOOK_PATH, extras.decorators)]
          : [],
        providers: [
          ...(definition.providers ?? []),
          {
            provide: ScalekitWebhookConfig,
            useFactory: (options: ScalekitWebhookModuleOptions) =>
              new ScalekitWebhookConfig(options, extras.name, extras.path ?? DEFAULT_WEBHOOK_PATH, receiver),
            inject: [SCALEKIT_WEBHOOK_MODULE_OPTIONS],
          },
          ...scalekitRegistrationProviders(SCALEKIT_WEBHOOK_MODULE_OPTIONS, extras.name),
        ] satisfies Provider[],
        exports: [
          ...(definition.exports ?? []),
          getScalekitIdempotencyStoreToken(extras.name),
          getScalekitQueueToken(extras.name),
          getScalekitVerifierToken(extras.name),
        ],
      };
    },
  )
  .build();

/** What `ScalekitWebhookModule.forRoot()` takes: the options plus `path`, `isGlobal`, `decorators`, `name`, `receiver`. */
export type ScalekitWebhookForRootOptions = typeof OPTIONS_TYPE;
/** What `ScalekitWebhookModule.forRootAsync()` takes: `useFactory`/`useClass`/`useExisting` plus the extras. */
export type ScalekitWebhookForRootAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
