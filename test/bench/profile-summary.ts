import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile DIR`): self time by function
 * and by where the code lives (idle, GC, our code, each package), over the whole profile or a
 * window of it (seconds from the profile's start; the bench logs each load's window).
 * `node dist-bench/test/bench/profile-summary.js FILE [TOP] [FROM_S TO_S]`
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native / V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  const ours = /\/(apps|libs|db)\/([^/]+)/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

function main(): void {
  const [file, topArg, fromArg, toArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary FILE [TOP] [FROM_S TO_S]\n');
    process.exit(2);
  }
  const top = Number(topArg ?? 15);
  const from = Number(fromArg ?? 0) * 1e6;
  const to = toArg === undefined ? Infinity : Number(toArg) * 1e6;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  let total = 0;
  let clock = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    clock += dt;
    if (clock < from || clock >= to) return;
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`.trim();
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + dt);
    const a = area(url, functionName);
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + dt);
    total += dt;
  });
  const print = (title: string, map: Map<string, number>) => {
    process.stdout.write(`${title}\n`);
    for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
    }
  };
  process.stdout.write(`${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled\n`);
  print('self time by area', selfByArea);
  print('self time by function', selfByFunction);
}

main();
