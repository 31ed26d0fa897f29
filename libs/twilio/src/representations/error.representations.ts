import type { TwilioError } from '../twilio.error';
import type { Representation } from './representation';
import { restExceptionCsv } from './twilio-csv';
import { restExceptionXml } from './twilio-xml';

/** The error's body in a representation: JSON's envelope, XML's `<RestException>`, or one CSV row. */
export function errorBody(error: TwilioError, representation: Representation): string {
  if (representation === 'xml') return restExceptionXml(error);
  if (representation === 'csv') return restExceptionCsv(error);
  return JSON.stringify(error.toBody());
}
