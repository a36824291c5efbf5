import { Module } from '@nestjs/common';
import { ScalekitInterceptorModule, ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { AuditLogHandler } from './audit-log.handler.js';
import { DirectoryUsersHandler } from './directory-users.handler.js';
import { OrganizationEventsHandler } from './organization-events.handler.js';
import { SignupPolicyInterceptor } from './signup-policy.interceptor.js';

/** A demo secret for local runs only; real apps read the secret from Scalekit's dashboard via the environment. */
export const DEMO_SECRET = 'whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXJ1bnMtb25seQ==';
/** The interceptors' demo secret: an interceptor has its own secret, never the webhook endpoint's. */
export const DEMO_INTERCEPTOR_SECRET = 'whsec_ZGVtby1pbnRlcmNlcHRvci1zZWNyZXQtbG9jYWwtb25seQ==';

@Module({
  imports: [
    ScalekitWebhookModule.forRootAsync({
      useFactory: () => ({ secret: process.env.SCALEKIT_WEBHOOK_SECRET || DEMO_SECRET }),
    }),
    // POST /scalekit/interceptors, answered within 4 s; a handler that fails is answered 503 (onError: 'fail'), so
    // the failure policy chosen in the dashboard decides.
    ScalekitInterceptorModule.forRootAsync({
      useFactory: () => ({ secret: process.env.SCALEKIT_INTERCEPTOR_SECRET || DEMO_INTERCEPTOR_SECRET }),
    }),
  ],
  providers: [DirectoryUsersHandler, OrganizationEventsHandler, AuditLogHandler, SignupPolicyInterceptor],
})
export class AppModule {}
