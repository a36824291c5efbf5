import { Injectable } from '@nestjs/common';
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  type ScalekitEvent,
  type ScalekitEventOf,
} from 'nestjs-scalekit-webhooks';

export interface Call {
  handler: string;
  event: AnyScalekitEvent;
  delivery: ScalekitDelivery;
}

/** Shared record of handler calls; a fresh one per app. */
@Injectable()
export class CallLog {
  readonly calls: Call[] = [];
  failNext = 0;
  record(handler: string, event: AnyScalekitEvent, delivery: ScalekitDelivery): void {
    this.calls.push({ handler, event, delivery });
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error(`${handler} was told to fail`);
    }
  }
  names(): string[] {
    return this.calls.map((c) => c.handler).sort();
  }
  clear(): void {
    this.calls.length = 0;
  }
}

@Injectable()
export class DirectoryHandlers {
  constructor(private readonly log: CallLog) {}

  @OnScalekitEvent('organization.directory.user_created')
  userCreated(event: ScalekitEvent<'organization.directory.user_created'>, delivery: ScalekitDelivery) {
    this.log.record('userCreated', event, delivery);
  }

  @OnScalekitEvent(['organization.created', 'organization.updated'])
  organizationChanged(
    event: ScalekitEvent<'organization.created' | 'organization.updated'>,
    delivery: ScalekitDelivery,
  ) {
    this.log.record('organizationChanged', event, delivery);
  }

  @OnScalekitEvent('role.created')
  @OnScalekitEvent('role.deleted')
  roleStacked(event: ScalekitEvent<'role.created' | 'role.deleted'>, delivery: ScalekitDelivery) {
    this.log.record('roleStacked', event, delivery);
  }

  @OnScalekitEvent('organization.directory.*')
  directoryWildcard(event: ScalekitEventOf<'organization.directory.*'>, delivery: ScalekitDelivery) {
    this.log.record('directoryWildcard', event, delivery);
  }

  @OnScalekitEvent('*')
  everything(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    this.log.record('everything', event, delivery);
  }

  @OnScalekitEvent('permission.created')
  async slowThenFail(event: AnyScalekitEvent, delivery: ScalekitDelivery) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.log.record('slowThenFail', event, delivery);
    throw new Error('permission sync is down');
  }
}
