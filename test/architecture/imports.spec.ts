import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The import graph of apps/, libs/ and db/, read with the compiler's own module resolution (the
 * tsconfig's paths included; `import type` and re-exports count, they tie files as much as any
 * other import). Two rules:
 * - no circle of files;
 * - a unit (a library, an app, db/) imports only from itself and from units of a lower layer.
 */
const ROOT = path.resolve(__dirname, '../..');

/** Lowest first. A unit may import only from units of a lower layer. */
const LAYERS: readonly (readonly string[])[] = [
  ['db', 'libs/config', 'libs/secrets', 'libs/twilio'],
  ['libs/database'],
  // With the store: the projection runner, checkpoints, leadership, parked events, rebuilds.
  ['libs/event-store'],
  // The tamper-evident ledger: uses the store; platform and accounts use it.
  ['libs/ledger'],
  ['libs/platform'],
  // The accounts feature, its read models and process manager included.
  ['libs/accounts'],
  // Event Streams: sinks and subscriptions, the event-type catalogue, delivery to webhooks and NATS.
  ['libs/event-streams'],
  ['apps/api', 'apps/cli', 'apps/console'],
];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function importGraph(): Map<string, Set<string>> {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const options = { ...parsed!.options, jsx: ts.JsxEmit.ReactJSX };
  const ours = (file: string) => ['apps', 'libs', 'db'].includes(path.relative(ROOT, file).split(path.sep)[0]);
  const graph = new Map<string, Set<string>>();
  for (const file of ['apps', 'libs', 'db'].flatMap((d) => sourceFiles(path.join(ROOT, d)))) {
    const from = path.relative(ROOT, file);
    const targets = new Set<string>();
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport && ours(resolved.resolvedFileName)) {
        targets.add(path.relative(ROOT, resolved.resolvedFileName));
      }
    }
    graph.set(from, targets);
  }
  return graph;
}

/** Strongly connected components of two or more files, or a file importing itself (Tarjan). */
function circles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

function unitOf(file: string): string {
  const [top, name] = file.split(path.sep);
  return top === 'db' ? 'db' : `${top}/${name}`;
}

function layerOf(unit: string): number {
  const layer = LAYERS.findIndex((units) => units.includes(unit));
  if (layer < 0) throw new Error(`${unit} is in no layer: add it to LAYERS in ${path.relative(ROOT, __filename)}`);
  return layer;
}

describe('imports', () => {
  const graph = importGraph();

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(path.join('apps', 'api', 'src', 'app.module.ts'))?.size).toBeGreaterThan(0);
  });

  it('form no circle under apps/, libs/ and db/', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('go only down the layers: never up, nor sideways between two units of one layer', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const [a, b] = [unitOf(from), unitOf(to)];
        if (a !== b && layerOf(a) <= layerOf(b)) upward.push(`${from} -> ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
