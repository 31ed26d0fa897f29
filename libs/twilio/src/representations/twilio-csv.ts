import { stringify } from 'csv-stringify/sync';
import type { TwilioError } from '../twilio.error';

/**
 * A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, and tab or CR, which some
 * spreadsheets skip before looking) gets a leading `'`, so it shows as text and never runs
 * (OWASP's advice for CSV injection). A cell that already starts with `'` gets one too, so the
 * rule is reversible: drop one leading `'` from any cell that has one and the value is back.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

export function formulaSafe(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * RFC 4180: a header row, CRLF line ends, a field quoted when it holds a comma, a quote or a
 * line break (quotes doubled inside). Null is an empty field. UTF-8, no byte-order mark.
 */
export function csvTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | null>>): string {
  return stringify([header.map(formulaSafe), ...rows.map((row) => row.map((cell) => (cell === null ? '' : formulaSafe(cell))))], {
    record_delimiter: '\r\n',
    // Quoted when it holds a separator, a quote, CR or LF (csv-stringify's rule, RFC 4180's).
    quoted_empty: false,
  });
}

/** An error in a `.csv` request: the same four fields as the XML RestException, as one row. */
export function restExceptionCsv(error: TwilioError): string {
  const body = error.toBody();
  return csvTable(['Status', 'Message', 'Code', 'MoreInfo'], [[String(body.status), body.message, String(body.code), body.more_info]]);
}
