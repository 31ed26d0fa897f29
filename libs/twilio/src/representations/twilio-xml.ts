import { XMLBuilder } from 'fast-xml-parser';
import type { TwilioError } from '../twilio.error';
import type { ListPaging } from '../list-paging';
import { uriWithoutExtension } from './representation';

/** One element: text (null: an empty element, as Twilio writes a null), or children, and attributes. */
export interface XmlElement {
  name: string;
  attributes?: ReadonlyArray<readonly [string, string]>;
  text?: string | null;
  children?: readonly XmlElement[];
}

/** fast-xml-parser's ordered form: `[{name: [children…], ':@': {attributes}}]`, text as `#text`. */
type Ordered = Record<string, unknown>;

const ATTRIBUTE = '@_';
const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE,
  // `&`, `<`, `>`, quotes and apostrophes become references, in text and attribute values alike.
  processEntities: true,
  suppressEmptyNode: true,
  format: false,
});

/**
 * What XML 1.0 cannot carry at all, not even as a reference: control characters other than tab,
 * LF and CR, lone surrogates, U+FFFE and U+FFFF. A friendly name may hold them (JSON and CSV keep
 * them); here they become U+FFFD, or no parser would read the document.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const xmlText = (text: string): string => text.replace(NOT_XML_CHAR, '\uFFFD');

function ordered(element: XmlElement): Ordered {
  const content: Ordered[] = [];
  if (element.text) content.push({ '#text': xmlText(element.text) });
  for (const child of element.children ?? []) content.push(ordered(child));
  const node: Ordered = { [element.name]: content };
  if (element.attributes?.length) {
    node[':@'] = Object.fromEntries(element.attributes.map(([name, value]) => [`${ATTRIBUTE}${name}`, xmlText(value)]));
  }
  return node;
}

/**
 * `<?xml version="1.0"?><TwilioResponse>…</TwilioResponse>`, no whitespace between elements, as
 * Twilio's own answers; an empty or null value is an empty element (`<X/>`). Built by
 * fast-xml-parser's XMLBuilder, which escapes every text and attribute value.
 */
export function twilioResponseXml(body: XmlElement): string {
  const xml = builder.build([{ '?xml': [{ '#text': '' }], ':@': { [`${ATTRIBUTE}version`]: '1.0' } }, { TwilioResponse: [ordered(body)] }]) as string;
  // A literal CR would reach the reader as LF (XML's end-of-line normalisation): written as a
  // character reference it survives. Our markup has no line breaks, so every CR here is text
  // or an attribute value.
  return xml.replace(/\r/g, '&#13;');
}

/**
 * A 2010 list, `<Name page pagesize start end uri firstpageuri previouspageuri nextpageuri>`: paging
 * as lowercase attributes, `""` for a page that does not exist, URIs without an extension.
 * Twilio's older `numpages`, `total` and `lastpageuri` are left out, as its JSON leaves them out.
 */
export function pageListXml(name: string, page: ListPaging, children: readonly XmlElement[]): string {
  const uri = (value: string | null) => (value === null ? '' : uriWithoutExtension(value));
  return twilioResponseXml({
    name,
    attributes: [
      ['page', String(page.page)],
      ['pagesize', String(page.page_size)],
      ['start', String(page.start)],
      ['end', String(page.end)],
      ['uri', uri(page.uri)],
      ['firstpageuri', uri(page.first_page_uri)],
      ['previouspageuri', uri(page.previous_page_uri)],
      ['nextpageuri', uri(page.next_page_uri)],
    ],
    children,
  });
}

/** Twilio's XML error: Status, Message, Code, MoreInfo, in that order (a real 2011 capture). */
export function restExceptionXml(error: TwilioError): string {
  const body = error.toBody();
  return twilioResponseXml({
    name: 'RestException',
    children: [
      { name: 'Status', text: String(body.status) },
      { name: 'Message', text: body.message },
      { name: 'Code', text: String(body.code) },
      { name: 'MoreInfo', text: body.more_info },
    ],
  });
}
