export * from './retry-policy';
export * from './sink-state.store';
export * from './sink-transports';
export * from './sink-delivery.projection';
export * from './delivery.service';
export * from './sink-senders';
export * from './sink-redelivery';
