import { Injectable, Logger } from '@nestjs/common';
import { OnScalekitEvent, type ScalekitDelivery, type ScalekitEvent } from 'nestjs-scalekit-webhooks';

/** Keeps a local copy of directory users in step with the customer's identity provider (SCIM). */
@Injectable()
export class DirectoryUsersHandler {
  private readonly logger = new Logger(DirectoryUsersHandler.name);
  readonly users = new Map<string, { email: string; name: string; active: boolean }>();

  @OnScalekitEvent(['organization.directory.user_created', 'organization.directory.user_updated'])
  upsert(
    event: ScalekitEvent<'organization.directory.user_created' | 'organization.directory.user_updated'>,
    delivery: ScalekitDelivery,
  ): void {
    const { id, email, given_name, family_name, active } = event.data;
    this.users.set(id, {
      email: email ?? '',
      name: [given_name, family_name].filter(Boolean).join(' '),
      active: active ?? true,
    });
    this.logger.log(`${event.type}: ${email} (${id}) in ${event.organization_id} [webhook ${delivery.webhookId}]`);
  }

  @OnScalekitEvent('organization.directory.user_deleted')
  remove(event: ScalekitEvent<'organization.directory.user_deleted'>): void {
    this.users.delete(event.data.id);
    this.logger.log(`user deleted: ${event.data.id}`);
  }
}
