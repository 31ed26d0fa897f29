/** The API's wire types, shared with the service (libs/twilio): the console reads what the server writes. */
export type {
  AccountHistoryEvent,
  AccountHistoryPage,
  AccountPage,
  AccountResource,
  AccountSnapshotResource,
  AccountStateResource,
  AccountStatus,
  EventsPage,
  HistoryEventLink,
  MonitorEvent,
  TwilioErrorBody,
} from '@accountable/twilio';
