// Compile-time tests for @OnScalekitEvent (checked by `npm run typecheck`, not run): the decorated method's first
// parameter must accept every event the pattern routes to it.
import {
  type AnyScalekitEvent,
  OnScalekitEvent,
  type ScalekitDelivery,
  type ScalekitEvent,
  type ScalekitEventOf,
} from 'nestjs-scalekit-webhooks';

export class Handlers {
  @OnScalekitEvent('organization.directory.user_created')
  exact(event: ScalekitEvent<'organization.directory.user_created'>, delivery: ScalekitDelivery): string {
    return `${event.data.email} ${delivery.webhookId}`;
  }

  @OnScalekitEvent(['organization.created', 'organization.updated'])
  list(event: ScalekitEvent<'organization.created' | 'organization.updated'>): void {
    void event;
  }

  @OnScalekitEvent('role.created')
  @OnScalekitEvent('role.deleted')
  stacked(event: ScalekitEvent<'role.created' | 'role.deleted'>): void {
    void event;
  }

  @OnScalekitEvent('organization.directory.*')
  prefix(event: ScalekitEventOf<'organization.directory.*'>): void {
    void event;
  }

  @OnScalekitEvent('*')
  everything(event: AnyScalekitEvent): void {
    void event;
  }

  @OnScalekitEvent('user.login')
  wider(event: AnyScalekitEvent): void {
    void event;
  }

  @OnScalekitEvent('user.login')
  noArguments(): void {}

  // @ts-expect-error: a role handler cannot be registered for organization events
  @OnScalekitEvent('organization.created')
  wrongType(event: ScalekitEvent<'role.created'>): void {
    void event;
  }

  // @ts-expect-error: one type of a list is not accepted by the handler
  @OnScalekitEvent(['organization.created', 'role.created'])
  partial(event: ScalekitEvent<'organization.created'>): void {
    void event;
  }

  // @ts-expect-error: a wildcard also routes unknown types, which a single-type handler cannot take
  @OnScalekitEvent('organization.*')
  tooNarrowForWildcard(event: ScalekitEvent<'organization.created'>): void {
    void event;
  }

  // @ts-expect-error: the second argument is the delivery, not a string
  @OnScalekitEvent('user.login')
  wrongDelivery(event: ScalekitEvent<'user.login'>, delivery: string): void {
    void event;
    void delivery;
  }
}
