import { Module } from '@nestjs/common';
import { ScalekitWebhookModule } from 'nestjs-scalekit-webhooks';
import { AuditLogHandler } from './audit-log.handler.js';
import { DirectoryUsersHandler } from './directory-users.handler.js';
import { OrganizationEventsHandler } from './organization-events.handler.js';

/** A demo secret for local runs only; real apps read the secret from Scalekit's dashboard via the environment. */
export const DEMO_SECRET = 'whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXJ1bnMtb25seQ==';

@Module({
  imports: [
    ScalekitWebhookModule.forRootAsync({
      useFactory: () => ({ secret: process.env.SCALEKIT_WEBHOOK_SECRET || DEMO_SECRET }),
    }),
  ],
  providers: [DirectoryUsersHandler, OrganizationEventsHandler, AuditLogHandler],
})
export class AppModule {}
