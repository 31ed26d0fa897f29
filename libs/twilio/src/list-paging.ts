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
