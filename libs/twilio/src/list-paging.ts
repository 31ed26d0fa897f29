/** The paging fields every 2010-style list envelope carries (Accounts, Keys, an account's History). */
export interface ListPaging {
  end: number;
  first_page_uri: string;
  next_page_uri: string | null;
  page: number;
  page_size: number;
  previous_page_uri: string | null;
  start: number;
  uri: string;
}

/** The v1 list envelope's `meta` (Monitor, Event Streams); twilio-node finds the list's array through `key`. */
export interface V1PageMeta<K extends string> {
  page: number;
  page_size: number;
  first_page_url: string;
  previous_page_url: string | null;
  url: string;
  next_page_url: string | null;
  key: K;
}
