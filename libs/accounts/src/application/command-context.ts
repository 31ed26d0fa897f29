import type { EventMetadata } from '@accountable/event-store';

/** Who asked, from where: becomes every event's metadata (the audit trail). */
export interface CommandContext {
  actorType: 'account' | 'operator' | 'system';
  /** The authenticated account for API calls; null for the operator and the system. */
  actorSid: string | null;
  source: 'api' | 'cli' | 'system';
  sourceIp?: string | null;
  userAgent?: string | null;
  /** The request id (`RQ…`) for API calls; also the correlation id unless one is given. */
  requestId?: string | null;
  correlationId?: string | null;
  /** The event that caused this command (cascades). */
  causationId?: string | null;
}

export function eventMetadata(context: CommandContext): EventMetadata {
  return {
    actorType: context.actorType,
    actorSid: context.actorSid,
    source: context.source,
    sourceIp: context.sourceIp ?? null,
    userAgent: context.userAgent ?? null,
    requestId: context.requestId ?? null,
    correlationId: context.correlationId ?? context.requestId ?? undefined,
    causationId: context.causationId ?? undefined,
  };
}

export const OPERATOR: CommandContext = { actorType: 'operator', actorSid: null, source: 'cli' };
