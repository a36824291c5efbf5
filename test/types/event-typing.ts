// Compile-time tests of the event types, checked by `npx tsc -p tsconfig.json` (not run by jest).
// Every `@ts-expect-error` must mark a real error: tsc reports an unused directive otherwise.

import type {
  AnyScalekitEvent,
  DirectoryUserEventData,
  RoleEventData,
  ScalekitEvent,
  ScalekitEventEnvelope,
  ScalekitEventMap,
  ScalekitEventOf,
  ScalekitEventType,
  UnknownScalekitEvent,
} from 'nestjs-scalekit-webhooks';
import { isKnownScalekitEventType, parseScalekitEventPayload, SCALEKIT_EVENT_TYPES } from 'nestjs-scalekit-webhooks';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Extends<A, B> = [A] extends [B] ? true : false;
type Expect<T extends true> = T;
type Not<T extends boolean> = T extends true ? false : true;

declare const userCreated: ScalekitEvent<'organization.directory.user_created'>;
declare const roleCreated: ScalekitEvent<'role.created'>;
declare const groupCreated: ScalekitEvent<'organization.directory.group_created'>;

// --- One known type: data is typed from the catalogue --------------------------------------------------------------

export function onUserCreated(event: ScalekitEvent<'organization.directory.user_created'>): string {
  const email: string | null | undefined = event.data.email;
  const givenName: string | null | undefined = event.data.given_name;
  const id: string = event.data.id;
  const type: 'organization.directory.user_created' = event.type;
  const occurredAt: string = event.occurred_at;
  // `display_name` is a field of organization, role and group data, not of a directory user.
  // @ts-expect-error display_name does not exist on DirectoryUserEventData
  void event.data.display_name;
  // @ts-expect-error old_status belongs to connected_account.status_updated
  void event.data.old_status;
  // @ts-expect-error optional fields may be absent or null: not a plain string
  const notNull: string = event.data.email;
  // @ts-expect-error the envelope is not open: unknown top-level fields are kept at runtime but not typed
  void event.something_else;
  return [email, givenName, id, type, occurredAt, notNull].join();
}

type _dataOfUser = Expect<Equals<(typeof userCreated)['data'], DirectoryUserEventData>>;
type _mapIsUsed = Expect<Equals<ScalekitEventMap['role.created'], RoleEventData>>;
type _envelopeShape = Expect<
  Equals<ScalekitEvent<'role.created'>, ScalekitEventEnvelope<'role.created', RoleEventData>>
>;
type _optionalEnvelopeFields = Expect<Equals<(typeof roleCreated)['organization_id'], string | undefined>>;
// Enums stay open strings (Scalekit adds values): a value not documented today still type-checks.
type _openEnum = Expect<Equals<ScalekitEvent<'connected_account.status_updated'>['data']['status'], string>>;
type _nullableExternalId = Expect<Extends<null, NonNullable<(typeof groupCreated)['data']>['external_id']>>;
// Nested objects declared with additionalProperties accept any extra key; others do not.
type _openNested = Expect<Equals<ScalekitEvent<'user.login'>['data']['user']['anything'], unknown>>;

export function nestedAccess(
  event: ScalekitEvent<'user.login'>,
  org: ScalekitEvent<'organization.updated'>,
): unknown[] {
  const sessionId: string | null | undefined = event.data.user_session.session_id;
  const features = org.data.settings?.features?.map((f) => f.name);
  // @ts-expect-error top-level data of a schema without additionalProperties is closed
  void org.data.anything;
  return [sessionId, features];
}

// --- A union of known types: a discriminated union narrowed by `type` -------------------------------------------------

export function onOrgOrRole(event: ScalekitEvent<'organization.created' | 'role.created'>): string {
  switch (event.type) {
    case 'organization.created': {
      const name: string = event.data.display_name;
      // @ts-expect-error `extends` is a role field
      void event.data.extends;
      return name;
    }
    case 'role.created': {
      const name: string = event.data.name;
      const parent: string | null | undefined = event.data.extends;
      return `${name}${parent ?? ''}`;
    }
    default: {
      const never: never = event;
      return never;
    }
  }
}

export function unnarrowed(event: ScalekitEvent<'organization.created' | 'role.created'>): void {
  // @ts-expect-error `name` exists only on role data until the union is narrowed
  void event.data.name;
}

// --- Types outside the catalogue --------------------------------------------------------------------------------

type _newType = Expect<Equals<ScalekitEvent<'something.new'>['data'], Record<string, unknown>>>;
type _newTypeLiteral = Expect<Equals<ScalekitEvent<'something.new'>['type'], 'something.new'>>;
type _stringType = Expect<Equals<ScalekitEvent<string>, UnknownScalekitEvent>>;
type _defaultIsKnownUnion = Expect<Equals<ScalekitEvent['type'], ScalekitEventType>>;
type _typesTuple = Expect<Equals<(typeof SCALEKIT_EVENT_TYPES)[number], ScalekitEventType>>;

export function onSomethingNew(event: ScalekitEvent<'something.new'>): unknown {
  return event.data.whatever;
}

// --- Wildcard patterns ----------------------------------------------------------------------------------------------

type Directory = ScalekitEventOf<'organization.directory.*'>;
type _includesUserCreated = Expect<Extends<ScalekitEvent<'organization.directory.user_created'>, Directory>>;
type _includesGroupCreated = Expect<Extends<ScalekitEvent<'organization.directory.group_created'>, Directory>>;
type _includesUnknown = Expect<Extends<UnknownScalekitEvent, Directory>>;
type _excludesRole = Expect<Not<Extends<ScalekitEvent<'role.created'>, Directory>>>;
// `organization.directory_enabled` does not start with `organization.directory.`.
type _excludesDirectoryEnabled = Expect<Not<Extends<ScalekitEvent<'organization.directory_enabled'>, Directory>>>;
type _exactKnownPart = Expect<
  Equals<
    Exclude<Directory, UnknownScalekitEvent>,
    ScalekitEvent<
      | 'organization.directory.user_created'
      | 'organization.directory.user_updated'
      | 'organization.directory.user_deleted'
      | 'organization.directory.group_created'
      | 'organization.directory.group_updated'
      | 'organization.directory.group_deleted'
    >
  >
>;
type _star = Expect<Equals<ScalekitEventOf<'*'>, AnyScalekitEvent>>;
type _exact = Expect<Equals<ScalekitEventOf<'role.created'>, ScalekitEvent<'role.created'>>>;
type _exactUnknown = Expect<Equals<ScalekitEventOf<'something.new'>, ScalekitEvent<'something.new'>>>;
type _noKnownMatch = Expect<Equals<ScalekitEventOf<'nothing.here.*'>, UnknownScalekitEvent>>;
type _unionOfPatterns = Expect<
  Extends<ScalekitEvent<'role.created' | 'permission.deleted'>, ScalekitEventOf<'role.*' | 'permission.*'>>
>;

export const directoryHandlerTakesUser: (event: Directory) => void = () => undefined;
directoryHandlerTakesUser(userCreated);
directoryHandlerTakesUser(groupCreated);
// @ts-expect-error a role event is not a directory event
directoryHandlerTakesUser(roleCreated);
// @ts-expect-error a role event is not a directory event
export const notDirectory: ScalekitEventOf<'organization.directory.*'> = roleCreated;

export function onDirectory(event: ScalekitEventOf<'organization.directory.*'>): string | undefined {
  if (event.type === 'organization.directory.user_created' && isKnownScalekitEventType(event.type)) {
    return event.id;
  }
  return undefined;
}

// --- The parser returns AnyScalekitEvent ----------------------------------------------------------------------------

export function parsed(raw: Buffer): string {
  const event = parseScalekitEventPayload(raw);
  type _any = Expect<Equals<typeof event, AnyScalekitEvent>>;
  const data: object = event.data;
  // @ts-expect-error the data of an unknown-or-known event is not any particular schema
  const user: DirectoryUserEventData = event.data;
  return `${event.type}${String(data)}${String(user)}`;
}
