// Builds one table of what each reliability test tried (its figures, named: rounds, requests,
// inputs, principals…) and whether it held; the global teardown prints it after jest's summary.
// The figures come from the JSON files the tests write (support/results.ts); pass or fail comes
// from jest itself, so a test that failed before recording still shows up. Plain JavaScript:
// jest loads reporters untransformed.
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

class ReliabilitySummaryReporter {
  onRunComplete(_contexts, results) {
    const dir = process.env.RELIABILITY_RESULTS_DIR;
    const records = [];
    if (dir) {
      for (const name of readdirSync(dir)) {
        if (name.endsWith('.json')) records.push(JSON.parse(readFileSync(path.join(dir, name), 'utf8')));
      }
    }
    const rows = [];
    for (const file of results.testResults) {
      if (file.testExecError || (file.failureMessage && file.testResults.length === 0)) {
        rows.push({ item: 99, title: path.basename(file.testFilePath), tried: '(the file did not run)', status: 'FAILED' });
      }
      for (const test of file.testResults) {
        const record = records.find((r) => r.file === file.testFilePath && r.test === test.fullName);
        const status = test.status === 'passed' ? 'held' : test.status === 'failed' ? 'FAILED' : test.status;
        rows.push({
          item: record ? record.item : 98,
          title: record ? record.title : test.fullName,
          tried: record ? describe(record.figures) : '',
          held: record && test.status === 'passed' ? record.held : '',
          status,
          seconds: (test.duration ?? 0) / 1000,
        });
      }
    }
    rows.sort((a, b) => a.item - b.item);
    const profile = records[0]?.profile ?? process.env.RELIABILITY_PROFILE ?? 'ci';
    const started = Number(process.env.RELIABILITY_STARTED_AT);
    const total = Number.isFinite(started) && started > 0 ? ` in ${((Date.now() - started) / 1000).toFixed(0)} s` : '';
    const lines = [
      `Reliability summary — profile ${profile}, ${process.env.RELIABILITY_SERVER ?? 'PostgreSQL'}${total}`,
      '',
      '| # | check | tried | what held | result | s |',
      '|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.item < 90 ? r.item : ''} | ${r.title} | ${r.tried} | ${r.held ?? ''} | ${r.status} | ${(r.seconds ?? 0).toFixed(0)} |`),
      '',
      `${rows.filter((r) => r.status === 'held').length} held, ${rows.filter((r) => r.status === 'FAILED').length} failed`,
    ];
    const text = `${lines.join('\n')}\n`;
    // Printed by the global teardown, which runs after jest's own summary: the table comes last.
    if (dir) writeFileSync(path.join(dir, 'summary.txt'), text);
    else process.stdout.write(`\n${text}`);
    if (process.env.RELIABILITY_SUMMARY_FILE) writeFileSync(process.env.RELIABILITY_SUMMARY_FILE, text);
  }

  getLastError() {
    return undefined;
  }
}

function describe(figures) {
  return Object.entries(figures ?? {})
    .map(([name, value]) => (name === 'seed' ? `seed ${value}` : `${value} ${name}`))
    .join(', ');
}

module.exports = ReliabilitySummaryReporter;
