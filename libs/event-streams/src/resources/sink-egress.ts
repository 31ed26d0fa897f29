import { checkDestination, checkedNatsServers, EgressRefusedError, type EgressPolicy } from '../egress';
import { EventStreamsRuleError } from './event-streams.errors';
import type { SinkConfiguration } from './sink-configuration';

/**
 * A sink is stored only if delivery may reach it (EGRESS_ALLOW's policy: no loopback, private or
 * link-local address unless allowed), so a tenant cannot aim the service at an internal host. The
 * same policy is applied again at every connection (the name may resolve elsewhere later).
 */
export async function assertSinkReachable(configuration: SinkConfiguration, policy: EgressPolicy): Promise<void> {
  if ('destination' in configuration) {
    const refusal = await checkDestination(configuration.destination, policy);
    if (refusal !== null) throw new EventStreamsRuleError('sink_destination_refused', `destination refused: ${refusal}`);
    return;
  }
  try {
    await checkedNatsServers(configuration.servers, policy);
  } catch (error) {
    if (error instanceof EgressRefusedError) throw new EventStreamsRuleError('sink_destination_refused', `servers refused: ${error.message}`);
    throw error;
  }
}
