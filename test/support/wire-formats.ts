import { parse } from 'csv-parse/sync';
import { SaxesParser } from 'saxes';

/** An element as a strict XML parser read it (saxes: XML 1.0 well-formedness, characters included). */
export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  /** The element's character data (references resolved). */
  text: string;
}

export interface XmlDocument {
  /** The XML declaration's version, or null without one. */
  version: string | null;
  root: XmlNode;
}

/** Parses with saxes and throws on anything that is not well-formed XML 1.0. */
export function parseXml(text: string): XmlDocument {
  const parser = new SaxesParser();
  let version: string | null = null;
  let root: XmlNode | undefined;
  const open: XmlNode[] = [];
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('xmldecl', (declaration) => {
    version = declaration.version ?? null;
  });
  parser.on('opentag', (tag) => {
    const node: XmlNode = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [], text: '' };
    if (open.length > 0) open[open.length - 1].children.push(node);
    else root = node;
    open.push(node);
  });
  parser.on('text', (data) => {
    if (open.length > 0) open[open.length - 1].text += data;
  });
  parser.on('closetag', () => {
    open.pop();
  });
  parser.write(text).close();
  if (failure) throw failure;
  if (!root) throw new Error('no root element');
  return { version, root };
}

/** The one child named `name` (throws when there is none or more than one). */
export function child(node: XmlNode, name: string): XmlNode {
  const found = node.children.filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`<${node.name}> has ${found.length} <${name}> children`);
  return found[0];
}

/** `{ElementName: text}` of an element whose children are all text elements. */
export function textsOf(node: XmlNode): Record<string, string> {
  return Object.fromEntries(node.children.map((c) => [c.name, c.text]));
}

/** RFC 4180 as csv-parse reads it strictly: CRLF records, the same number of fields in each. */
export function parseCsv(text: string): string[][] {
  return parse(text, { record_delimiter: '\r\n', relax_quotes: false, relax_column_count: false, skip_empty_lines: false, bom: false });
}

/** The rows as `{Header: value}`, with the formula guard undone (one leading `'` dropped). */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [unguard(name), unguard(row[i])])));
}

export const unguard = (cell: string): string => (cell.startsWith("'") ? cell.slice(1) : cell);
