import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '@accountable/database';
import { EventStore, ProjectionAdmin, type Projection, type ProjectionStatus } from '@accountable/event-store';
import { DeliveryService, SinkStateStore, type SinkDeliveryStatus } from '@accountable/event-streams';
import { DB, PROJECTIONS } from '@accountable/platform';

/**
 * The registry and the HTTP metrics. Created before Nest (the Fastify hook that feeds it is
 * added before the routes); each application has its own registry, since tests boot several
 * applications in one process and the global one would collide.
 */
export class HttpMetrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** `route` is the route pattern (`/2010-04-01/Accounts/:sid`), never the raw path: bounded labels. */
  observe(method: string, route: string, statusCode: number, seconds: number): void {
    const labels = { method, route, status_code: String(statusCode) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}

/** Event-store and projection metrics, on the same registry as the HTTP ones. */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry: Registry;
  private readonly appends: Counter<'outcome'>;
  private readonly appendedEvents: Counter;
  private readonly conflicts: Counter;
  private readonly deliveryLag: Histogram;

  constructor(
    @Inject(DB) db: Kysely<Database>,
    private readonly store: EventStore,
    @Inject(PROJECTIONS) projections: Projection[],
    http: HttpMetrics,
    @Optional() private readonly delivery?: DeliveryService,
  ) {
    const registers = [(this.registry = http.registry)];
    collectDefaultMetrics({ register: this.registry });
    this.appends = new Counter({
      name: 'eventstore_appends_total',
      help: 'Appends to the event log by outcome (appended, idempotent, wrong_version, duplicate_event)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.appendedEvents = new Counter({ name: 'eventstore_appended_events_total', help: 'Events written to the log', registers });
    this.conflicts = new Counter({
      name: 'eventstore_version_conflicts_total',
      help: 'Appends refused because the stream was not at the expected version',
      registers,
    });

    // Read from the checkpoints table at scrape time, so any process reports every projection,
    // whichever process leads it. prom-client collects gauges concurrently: one query per scrape.
    // Event Streams sinks are projections too (`sink:DG…`, one each), delivered from the feed.
    const admin = new ProjectionAdmin(db, store);
    const sinks = new SinkStateStore(db);
    let pending: Promise<{ projections: ProjectionStatus[]; sinks: SinkDeliveryStatus[] }> | undefined;
    let last: { projections: ProjectionStatus[]; sinks: SinkDeliveryStatus[] } = { projections: [], sinks: [] };
    const snapshot = () =>
      (pending ??= sinks
        .deliveryStatus()
        .then(async (deliveries) => ({ projections: await admin.status([...projections.map((p) => p.name), ...deliveries.map((d) => d.name)]), sinks: deliveries }))
        .then((s) => (last = s))
        .catch(() => last)
        .finally(() => setTimeout(() => (pending = undefined), 100).unref()));
    const gauge = (name: string, help: string, value: (s: ProjectionStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['projection'] as const,
        registers,
        async collect() {
          const { projections: statuses } = await snapshot();
          this.reset(); // a deleted sink's series goes with it
          for (const s of statuses) this.set({ projection: s.name }, value(s));
        },
      });
    const sinkGauge = (name: string, help: string, value: (s: SinkDeliveryStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['sink'] as const,
        registers,
        async collect() {
          const { sinks: deliveries } = await snapshot();
          this.reset();
          for (const s of deliveries) this.set({ sink: s.sid }, value(s));
        },
      });
    sinkGauge('event_streams_delivered_events', 'Events each Event Streams sink has been delivered (lag: projection_lag_seconds{projection="sink:DG…"})', (s) => s.delivered);
    sinkGauge('event_streams_dropped_events', 'Events each sink refused (4xx, a refused destination): not retried, parked under its projection', (s) => s.dropped);
    sinkGauge('event_streams_failing_attempts', 'Failed attempts at the batch each sink is retrying (0: delivering)', (s) => s.failingAttempts);
    sinkGauge('event_streams_sink_failed', '1 for a sink that stopped after its retry window (status failed)', (s) => (s.status === 'failed' ? 1 : 0));
    this.deliveryLag = new Histogram({
      name: 'event_streams_delivery_lag_seconds',
      help: 'From an event committed to its delivery acknowledged by the sink, per event, in this process',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    gauge('projection_position', 'Global position of the last event each projection applied', (s) => s.checkpoint.globalPosition);
    gauge('projection_lag_events', 'Events stored beyond each projection checkpoint', (s) => s.lagEvents);
    gauge('projection_lag_seconds', 'Age of the oldest event each projection has not applied yet', (s) => s.lagSeconds);
    gauge('projection_parked_events', 'Events each projection could not apply and set aside (cli projections parked)', (s) => s.parked);
  }

  onModuleInit(): void {
    this.delivery?.listen({
      delivered: (_sink, events) => {
        const now = Date.now();
        for (const event of events) this.deliveryLag.observe((now - event.recordedAt.getTime()) / 1000);
      },
    });
    this.store.observe((outcome, events) => {
      this.appends.inc({ outcome });
      if (outcome === 'appended') this.appendedEvents.inc(events);
      if (outcome === 'wrong_version') this.conflicts.inc();
    });
  }
}
