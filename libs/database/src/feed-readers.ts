/**
 * The application names of the sessions that read the feed and never append: the feed's fence
 * (`feed_fence()`, migration 0020) does not wait for their transactions, and the database refuses
 * an event inserted by one of them. The list is the migration's `feed_reader_application_names()`;
 * test/event-store/feed-fence.int.spec.ts holds the two together.
 */
export const FEED_READER_APPLICATION_NAME = {
  /** The projector pool and every projection runner's LISTEN / leadership connection. */
  projector: 'accountable-projector',
  /** Event Streams delivery's pool. */
  eventStreams: 'accountable-event-streams',
} as const;
